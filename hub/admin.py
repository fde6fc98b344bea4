from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse

from . import services, staff
from .audit import audit_record
from .errors import HubError
from .models import (
    AccessRequest,
    AccountWebhook,
    AccountWebhookAttempt,
    App,
    AppEnvironment,
    AppInstance,
    AppListing,
    AuditEvent,
    CustomerBase,
    Membership,
    OrgaInvite,
    Organization,
    Team,
    Tenant,
    User,
)


class StaffRoleMixin:
    """Let a user with an ``admin_role`` do what the role allows (``hub.staff``).

    Superusers and staff without a role keep Django's own permissions.
    """

    def _role_decides(self, request):
        return bool(request.user.admin_role) and not request.user.is_superuser

    def has_module_permission(self, request):
        if self._role_decides(request):
            return request.user.is_active
        return super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if self._role_decides(request):
            return staff.admin_permitted(request.user, "view", self.model, obj)
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        if self._role_decides(request):
            return staff.admin_permitted(request.user, "add", self.model)
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if self._role_decides(request):
            return staff.admin_permitted(request.user, "change", self.model, obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._role_decides(request):
            return staff.admin_permitted(request.user, "delete", self.model, obj)
        return super().has_delete_permission(request, obj)


class AuditedAdminMixin:
    """Add an audit event for every row added, changed or deleted in the admin.

    Django's own change log hooks are used because every save and delete of the
    admin, bulk deletes and custom ``save_model`` methods included, passes there.
    """

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action="admin.add", target=obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(
            actor=request.user,
            action="admin.change",
            target=obj,
            data={"change": message},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=request.user,
                action="admin.delete",
                target=obj,
                data={"was": str(obj)},
            )
        return super().log_deletions(request, queryset)


class HubModelAdmin(StaffRoleMixin, AuditedAdminMixin, admin.ModelAdmin):
    pass


class HubInline(StaffRoleMixin, admin.TabularInline):
    pass


@admin.register(CustomerBase)
class CustomerBaseAdmin(HubModelAdmin):
    list_display = ["name", "uid", "created_at"]
    search_fields = ["name", "uid"]
    readonly_fields = ["uid"]


@admin.register(Tenant)
class TenantAdmin(HubModelAdmin):
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
            audit_record(actor=request.user, action="tenant.key_rotate", target=tenant)
            self.message_user(
                request,
                f"Tenant key of {tenant.uid}: {tenant_key} "
                "(copy it now: it is not shown again)",
                messages.WARNING,
            )


@admin.register(User)
class UserAdmin(StaffRoleMixin, AuditedAdminMixin, BaseUserAdmin):
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
    list_filter = ["customer_base", "admin_role", "is_staff", "is_active"]
    search_fields = ["email", "uid", "name", "surname"]
    readonly_fields = [
        "uid",
        "last_login",
        "date_joined",
        "failed_login_count",
        "locked_until",
    ]
    actions = ["unlock", "request_access", "impersonate"]
    fieldsets = [
        (None, {"fields": ["uid", "email", "password", "customer_base"]}),
        (
            "Profile",
            {"fields": ["name", "surname", "phone", "company", "locale", "timezone"]},
        ),
        ("Logins", {"fields": ["failed_login_count", "locked_until"]}),
        (
            "Permissions",
            {
                "fields": [
                    "is_active",
                    "admin_role",
                    "is_staff",
                    "is_superuser",
                    "groups",
                ]
            },
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

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser or request.user.admin_role == User.AdminRole.ADMIN:
            return fields
        # Only admins grant platform roles, or take them away.
        return [*fields, "admin_role", "is_staff", "is_superuser", "groups"]

    @admin.action(description="Unlock after failed logins")
    def unlock(self, request, queryset):
        for user in queryset:
            services.user_unlock(user=user)
            audit_record(actor=request.user, action="user.unlock", target=user)
        self.message_user(request, f"{len(queryset)} account(s) unlocked.")

    def has_impersonate_permission(self, request):
        return staff.impersonation_permitted(request.user)

    @admin.action(
        description="Request access (the person is asked to consent)",
        permissions=["impersonate"],
    )
    def request_access(self, request, queryset):
        for user in queryset:
            try:
                staff.access_request_create(requester=request.user, user=user)
            except HubError as refusal:
                self.message_user(request, refusal.detail, messages.ERROR)
            else:
                self.message_user(request, f"Access to {user.email} requested.")

    @admin.action(
        description="Impersonate (needs the person's consent)",
        permissions=["impersonate"],
    )
    def impersonate(self, request, queryset):
        if len(queryset) != 1:
            self.message_user(request, "Select exactly one person.", messages.ERROR)
            return None

        try:
            staff.session_impersonation_begin(request, queryset.get())
        except HubError as refusal:
            self.message_user(request, refusal.detail, messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("portal:home"))


class MembershipInline(HubInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class AppInstanceInline(HubInline):
    model = AppInstance
    extra = 0
    fields = ["uid", "app", "name", "status"]
    readonly_fields = ["uid"]


@admin.register(Organization)
class OrganizationAdmin(HubModelAdmin):
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
class AppAdmin(HubModelAdmin):
    list_display = ["name", "uid", "nid", "created_at"]
    search_fields = ["name", "uid", "nid"]
    readonly_fields = ["uid"]


@admin.register(AppListing)
class AppListingAdmin(HubModelAdmin):
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
            for name in [
                "host",
                "notification_path",
                "groups_path",
                "group_users_path",
                "subscriptions",
                "sso_init_path",
                "sso_consume_path",
                "synchronization_start_path",
                "synchronization_toggle_path",
                "synchronization_status_path",
                "connec_external_ids",
                "enabled",
            ]
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
            audit_record(
                actor=request.user, action="app_listing.key_rotate", target=listing
            )
            self._show_key_once(request, listing, api_key)

    def _show_key_once(self, request, listing, api_key):
        self.message_user(
            request,
            f"API key of {listing.api_id}: {api_key} "
            "(copy it now: it is not shown again)",
            messages.WARNING,
        )


@admin.register(AppEnvironment)
class AppEnvironmentAdmin(HubModelAdmin):
    list_display = ["app", "name", "key", "created_at"]
    list_filter = ["name"]
    search_fields = ["key", "app__name"]
    readonly_fields = ["key", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Moving an environment to another app would hand it that app's keys.
        if obj is not None:
            return [*self.readonly_fields, "app"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return

        environment, secret = services.app_environment_create(
            app=obj.app, name=obj.name
        )
        obj.pk = environment.pk
        obj.key = environment.key
        self.message_user(
            request,
            f"Secret of {environment.key}: {secret} "
            "(copy it now: it is not shown again)",
            messages.WARNING,
        )


@admin.register(AppInstance)
class AppInstanceAdmin(HubModelAdmin):
    list_display = ["uid", "app", "organization", "status", "created_at"]
    list_filter = ["status", "app"]
    search_fields = ["uid", "organization__name", "organization__uid"]
    readonly_fields = ["uid"]
    autocomplete_fields = ["organization"]


@admin.register(Membership)
class MembershipAdmin(HubModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name", "organization__uid"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Team)
class TeamAdmin(HubModelAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name", "organization__name", "organization__uid"]
    autocomplete_fields = ["organization", "members", "app_instances"]


@admin.register(OrgaInvite)
class OrgaInviteAdmin(HubModelAdmin):
    list_display = ["email", "organization", "role", "status", "created_at", "sent_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name", "organization__uid"]
    readonly_fields = ["status", "created_at", "sent_at", "answered_at", "user"]
    autocomplete_fields = ["organization", "team", "referrer"]


@admin.register(AccessRequest)
class AccessRequestAdmin(StaffRoleMixin, admin.ModelAdmin):
    list_display = ["requester", "user", "status", "created_at", "approved_at"]
    list_filter = ["status"]
    search_fields = ["requester__email", "user__email"]
    readonly_fields = [
        "requester",
        "user",
        "status",
        "created_at",
        "approved_at",
        "denied_at",
    ]

    # Requests are made and answered through the services, never edited here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(StaffRoleMixin, admin.ModelAdmin):
    list_display = ["at", "action", "actor_email", "target_type", "target_id"]
    list_filter = ["action", "target_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_email", "action", "target_id"]
    date_hierarchy = "at"

    # The trail is read-only for everyone, superusers included.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccountWebhookAttemptInline(admin.TabularInline):
    model = AccountWebhookAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "started_at",
        "duration_ms",
        "response_status",
        "response_body",
        "error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccountWebhook)
class AccountWebhookAdmin(StaffRoleMixin, admin.ModelAdmin):
    list_display = ["event", "app_instance", "url", "status", "attempts", "created_at"]
    list_filter = ["event", "status"]
    search_fields = ["url", "app_instance__uid", "user_uid"]
    readonly_fields = [
        "app_instance",
        "event",
        "user_uid",
        "url",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    inlines = [AccountWebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
