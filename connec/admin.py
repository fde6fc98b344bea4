from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from . import webhooks
from .models import Delivery, DeliveryAttempt, Record


@admin.register(Record)
class RecordAdmin(SimpleHistoryAdmin):
    """Records are read here; they change only through the Connec! write service,
    which keeps history and webhooks in step, so the admin does not edit them."""

    list_display = ["id", "collection", "organization", "status", "updated_at"]
    list_filter = ["collection", "status"]
    search_fields = ["id", "organization__uid", "organization__name"]
    readonly_fields = [
        "id",
        "organization",
        "collection",
        "status",
        "document",
        "created_by",
        "created_at",
        "updated_at",
    ]
    history_list_display = ["transaction_id", "app_instance"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "started_at",
        "url",
        "response_status",
        "duration_ms",
        "error",
        "response_body",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "collection",
        "app_instance",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "collection"]
    search_fields = ["id", "app_instance__uid", "record__id"]
    readonly_fields = [
        "id",
        "app_instance",
        "record",
        "collection",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    inlines = [DeliveryAttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again now")
    def send_again(self, request, queryset):
        ids = webhooks.deliveries_replay(
            queryset.exclude(status=Delivery.Status.SENDING)
        )
        self.message_user(
            request, f"{len(ids)} deliveries queued to be sent again.", messages.INFO
        )
