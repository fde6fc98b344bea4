from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from . import services
from .models import (
    App,
    AppInstance,
    AppListing,
    CustomerBase,
    Membership,
    OrgaInvite,
    Organization,
    Team,
    Tenant,
    User,
)


@admin.register(CustomerBase)
class CustomerBaseAdmin(admin.ModelAdmin):
    list_display = ["name", "uid", "created_at"]
    search_fields = ["name", "uid"]
    readonly_fields = ["uid"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "uid", "domain", "customer_base", "has_key", "created_at"]
    list_filter = ["customer_base"]
    search_fields = ["name", "uid", "domain"]
    readonly_fields = ["uid"]
    fields = ["uid", "name", "domain", "customer_base", "frontend_config"]
    actions = ["rotate_tenant_key"]

    @admin.display(boolean=True, description="key issued")
    def has_key(self, tenant):
        return bool(tenant.api_key_digest)

    @admin.action(description="Issue a new tenant key (the old one stops working)")
    def rotate_tenant_key(self, request, queryset):
        for tenant in queryset:
            tenant_key = services.tenant_key_rotate(tenant=tenant)
            self.message_user(
                request,
                f"Tenant key of {tenant.uid}: {tenant_key} "
                "(copy it now: it is not shown again)",
                messages.WARNING,
            )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "uid",
        "name",
        "surname",
        "customer_base",
        "is_staff",
        "is_active",
        "locked_until",
    ]
    list_filter = ["customer_base", "is_staff", "is_active"]
    search_fields = ["email", "uid", "name", "surname"]
    readonly_fields = [
        "uid",
        "last_login",
        "date_joined",
        "failed_login_count",
        "locked_until",
    ]
    actions = ["unlock"]
    fieldsets = [
        (None, {"fields": ["uid", "email", "password", "customer_base"]}),
        (
            "Profile",
            {"fields": ["name", "surname", "phone", "company", "locale", "timezone"]},
        ),
        ("Logins", {"fields": ["failed_login_count", "locked_until"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "customer_base", "password1", "password2"],
            },
        )
    ]

    @admin.action(description="Unlock after failed logins")
    def unlock(self, request, queryset):
        for user in queryset:
            services.user_unlock(user=user)
        self.message_user(request, f"{len(queryset)} account(s) unlocked.")


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
    list_display = [
        "name",
        "uid",
        "tenant",
        "customer_base",
        "currency",
        "country",
        "account_frozen",
    ]
    list_filter = ["customer_base", "tenant", "account_frozen", "currency", "country"]
    search_fields = ["name", "uid", "external_id"]
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


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name", "organization__name", "organization__uid"]
    autocomplete_fields = ["organization", "members", "app_instances"]


@admin.register(OrgaInvite)
class OrgaInviteAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "status", "created_at", "sent_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name", "organization__uid"]
    readonly_fields = ["status", "created_at", "sent_at", "answered_at", "user"]
    autocomplete_fields = ["organization", "team", "referrer"]
