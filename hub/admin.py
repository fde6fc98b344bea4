from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from . import services
from .models import App, AppInstance, AppListing, Membership, Organization, Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "uid", "domain", "created_at"]
    search_fields = ["name", "uid", "domain"]
    readonly_fields = ["uid"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "uid", "name", "surname", "is_staff", "is_active"]
    search_fields = ["email", "uid", "name", "surname"]
    readonly_fields = ["uid", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["uid", "email", "password"]}),
        ("Profile", {"fields": ["name", "surname"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class AppInstanceInline(admin.TabularInline):
    model = AppInstance
    extra = 0
    fields = ["uid", "app", "name", "status"]
    readonly_fields = ["uid"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "uid", "tenant", "currency", "country", "timezone"]
    list_filter = ["tenant", "currency", "country"]
    search_fields = ["name", "uid"]
    readonly_fields = ["uid"]
    inlines = [MembershipInline, AppInstanceInline]


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "uid", "nid", "created_at"]
    search_fields = ["name", "uid", "nid"]
    readonly_fields = ["uid"]


@admin.register(AppListing)
class AppListingAdmin(admin.ModelAdmin):
    list_display = ["app", "tenant", "api_id", "host", "enabled"]
    list_filter = ["tenant", "enabled"]
    search_fields = ["api_id", "app__name"]
    readonly_fields = ["api_id", "webhook_secret", "created_at"]
    actions = ["rotate_api_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return

        fields = {
            name: form.cleaned_data[name]
            for name in ["host", "notification_path", "subscriptions", "enabled"]
        }
        listing, api_key = services.app_listing_create(
            app=obj.app, tenant=obj.tenant, **fields
        )
        obj.pk = listing.pk
        obj.api_id = listing.api_id
        self._show_key_once(request, listing, api_key)

    @admin.action(description="Generate a new API key (the old one stops working)")
    def rotate_api_key(self, request, queryset):
        for listing in queryset:
            api_key = services.app_listing_rotate_key(listing=listing)
            self._show_key_once(request, listing, api_key)

    def _show_key_once(self, request, listing, api_key):
        self.message_user(
            request,
            f"API key of {listing.api_id}: {api_key} "
            "(copy it now: it is not shown again)",
            messages.WARNING,
        )


@admin.register(AppInstance)
class AppInstanceAdmin(admin.ModelAdmin):
    list_display = ["uid", "app", "organization", "status", "created_at"]
    list_filter = ["status", "app"]
    search_fields = ["uid", "organization__name", "organization__uid"]
    readonly_fields = ["uid"]
    autocomplete_fields = ["organization"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name", "organization__uid"]
    autocomplete_fields = ["user", "organization"]
