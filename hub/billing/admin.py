from django.contrib import admin

from .models import Bill, RecurringBill


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = [
        "uid",
        "app_instance",
        "price_cents",
        "currency",
        "units",
        "status",
        "created_at",
    ]
    list_filter = ["status", "third_party", "currency"]
    search_fields = ["uid", "app_instance__uid", "description"]
    list_select_related = ["app_instance__app"]
    raw_id_fields = ["app_instance", "recurring_bill"]
    readonly_fields = ["uid", "created_at", "updated_at"]
    date_hierarchy = "created_at"


@admin.register(RecurringBill)
class RecurringBillAdmin(admin.ModelAdmin):
    list_display = [
        "uid",
        "app_instance",
        "price_cents",
        "currency",
        "period",
        "frequency",
        "status",
        "next_execution_at",
    ]
    list_filter = ["status", "period", "currency"]
    search_fields = ["uid", "app_instance__uid", "description"]
    list_select_related = ["app_instance__app"]
    raw_id_fields = ["app_instance"]
    readonly_fields = [
        "uid",
        "setup_at",
        "last_execution_at",
        "remaining_cycles",
        "created_at",
        "updated_at",
    ]
