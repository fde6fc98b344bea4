from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from hub.admin import StaffRoleMixin
from maestrano.errors import ApiError

from . import definitions, errors, rollback, sharing, webhook_endpoints, webhooks
from .models import (
    CollectionDefinition,
    Delivery,
    DeliveryAttempt,
    Record,
    RecordSharing,
    Rollback,
    SharingRule,
    TransactionError,
    WebhookEndpoint,
    WebhookSecret,
)


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
    history_list_display = ["transaction_id", "app_instance", "origin", "sync_run_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    """The full request and response of one try, kept for the retention period."""

    list_display = ["id", "batch_id", "number", "url", "response_status", "started_at"]
    list_filter = ["response_status"]
    search_fields = ["=batch_id", "=delivery__id"]
    readonly_fields = [
        "delivery",
        "batch_id",
        "delivery_ids",
        "number",
        "url",
        "started_at",
        "duration_ms",
        "request_headers",
        "request_body",
        "response_status",
        "response_headers",
        "response_body",
        "error",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "collection",
        "app_instance",
        "status",
        "failure_reason",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "failure_reason", "collection"]
    search_fields = ["id", "=batch_id", "app_instance__uid", "record__id"]
    readonly_fields = [
        "id",
        "app_instance",
        "record",
        "collection",
        "payload",
        "status",
        "failure_reason",
        "batch_id",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "attempt_log",
    ]
    actions = ["send_again", "approve_held"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Attempts")
    def attempt_log(self, obj):
        # A batch's attempt is logged once and names every delivery it carried.
        attempts = DeliveryAttempt.objects.filter(delivery_ids__contains=[obj.pk])
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 - a constant
            '<a href="{}">{} · {} · {}</a>',
            (
                (
                    reverse("admin:connec_deliveryattempt_change", args=[a.pk]),
                    a.started_at.isoformat(timespec="seconds"),
                    a.response_status or "no answer",
                    a.error or f"{a.duration_ms} ms",
                )
                for a in attempts.order_by("started_at")
            ),
        )

    @admin.action(description="Send again now")
    def send_again(self, request, queryset):
        ids = webhooks.deliveries_replay(queryset)
        self.message_user(
            request, f"{len(ids)} deliveries queued to be sent again.", messages.INFO
        )

    @admin.action(description="Approve: send the held changes of these records")
    def approve_held(self, request, queryset):
        """Commit each selected held delivery's record to its app, this time only.

        As ``Approve only this time`` in the portal: the record's held changes go
        to that app, and its later changes wait for approval again.
        """
        held = queryset.filter(status=Delivery.Status.HELD, record__isnull=False)
        apps_by_record = {}
        for delivery in held.select_related("record", "app_instance"):
            apps_by_record.setdefault(delivery.record, set()).add(
                delivery.app_instance.uid
            )
        approved = 0
        for record, group_ids in apps_by_record.items():
            mappings = [{"group_id": uid, "commit": True} for uid in sorted(group_ids)]
            try:
                sharing.record_commit(record=record, body={"mappings": mappings})
            except ApiError as error:
                self.message_user(request, f"{record}: {error.detail}", messages.ERROR)
            else:
                approved += 1
        self.message_user(
            request, f"Held changes of {approved} records approved.", messages.INFO
        )


class WebhookSecretInline(admin.TabularInline):
    model = WebhookSecret
    extra = 0
    fields = ["created_at", "expires_at"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request, obj=None):
        # New secrets come from the rotation action, which also updates the
        # listing; a secret typed here would be known to nobody.
        return False


class WebhookEndpointForm(forms.ModelForm):
    replay_since = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        help_text="Send again every dead letter to this app created since then "
        "(the endpoint is enabled again).",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["contact_email"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Each app's notification endpoint: health, disabling, secrets and replay."""

    form = WebhookEndpointForm
    list_display = ["listing", "disabled_at", "disabled_reason", "failing_since"]
    list_filter = ["disabled_reason"]
    search_fields = ["listing__app__name", "listing__api_id"]
    readonly_fields = ["listing", "failing_since", "disabled_at", "disabled_reason"]
    inlines = [WebhookSecretInline]
    actions = ["enable", "rotate_secret"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        since = form.cleaned_data.get("replay_since")
        if since is not None:
            ids = webhooks.listing_deliveries_replay(listing=obj.listing, since=since)
            self.message_user(
                request, f"{len(ids)} dead letters queued to be sent again."
            )

    @admin.action(description="Enable again (dead letters wait for a replay)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoints.endpoint_enable(endpoint.listing)
        self.message_user(request, f"{queryset.count()} endpoints enabled.")

    @admin.action(description="Rotate the signing secret (old one kept 24 hours)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoints.webhook_secret_rotate(listing=endpoint.listing)
        self.message_user(
            request,
            f"{queryset.count()} secrets rotated; the new ones are on the listings.",
        )


class CollectionDefinitionForm(forms.ModelForm):
    class Meta:
        model = CollectionDefinition
        fields = ["name", "kind", "schema"]

    def clean(self):
        cleaned = super().clean()
        # On a change, the name and kind are shown read-only and stay as they were.
        name = cleaned.get("name", self.instance.name)
        kind = cleaned.get("kind", self.instance.kind)
        if name and kind and "schema" in cleaned:
            try:
                definitions.definition_check(
                    name=name, kind=kind, schema=cleaned["schema"]
                )
            except ValidationError as error:
                naming = error.code in definitions.NAME_ERRORS and "name" in self.fields
                self.add_error("name" if naming else None, error)
        return cleaned


def _definition_url(definition):
    return reverse("admin:connec_collectiondefinition_change", args=[definition.pk])


@admin.register(CollectionDefinition)
class CollectionDefinitionAdmin(StaffRoleMixin, admin.ModelAdmin):
    """Collections and custom fields defined without code.

    A version is never changed: saving the form of a definition stores the edited
    schema as the next version, after checking it against the records stored.
    """

    form = CollectionDefinitionForm
    list_display = ["name", "version", "kind", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "kind", "version", "created_by", "created_at", "versions"]

    def has_delete_permission(self, request, obj=None):
        # Records may depend on any version; deleting one would strand them.
        return False

    @admin.display(description="All versions")
    def versions(self, obj):
        rows = CollectionDefinition.objects.filter(name=obj.name).order_by("-version")
        return format_html(
            "Saving this form stores version {} and keeps every version: {}",
            rows[0].version + 1,
            format_html_join(
                ", ",
                '<a href="{}">v{}</a>',
                ((_definition_url(row), row.version) for row in rows),
            ),
        )

    def save_model(self, request, obj, form, change):
        created = definitions.definition_create(
            name=obj.name, kind=obj.kind, schema=obj.schema, actor=request.user
        )
        # The form's row is now the new version, so the admin's log and redirect
        # name it; the version that was edited stays unchanged in the database.
        obj.pk = created.pk
        obj.version = created.version
        obj.created_by = created.created_by
        obj.created_at = created.created_at
        obj._state.adding = False


@admin.register(SharingRule)
class SharingRuleAdmin(StaffRoleMixin, admin.ModelAdmin):
    """Whether an organisation's changes of a collection reach one of its apps."""

    list_display = [
        "organization",
        "collection",
        "app_instance",
        "policy",
        "updated_at",
    ]
    list_filter = ["policy", "collection"]
    search_fields = ["organization__uid", "organization__name", "app_instance__uid"]
    raw_id_fields = ["organization", "app_instance"]


@admin.register(RecordSharing)
class RecordSharingAdmin(StaffRoleMixin, admin.ModelAdmin):
    """Decisions for one record and one app. Committing held changes is done
    through the commit API or the portal, which also releases the deliveries."""

    list_display = [
        "record",
        "app_instance",
        "auto_commit",
        "push_disabled",
        "pull_disabled",
        "updated_at",
    ]
    list_filter = ["auto_commit", "push_disabled", "pull_disabled"]
    search_fields = ["=record__id", "app_instance__uid"]
    raw_id_fields = ["record", "app_instance"]


@admin.register(TransactionError)
class TransactionErrorAdmin(StaffRoleMixin, admin.ModelAdmin):
    """Records that apps reported they could not import; read only."""

    list_display = [
        "created_at",
        "organization",
        "app_instance",
        "collection",
        "message",
    ]
    list_filter = ["collection"]
    search_fields = ["organization__uid", "app_instance__uid", "=record__id"]
    readonly_fields = [
        "id",
        "organization",
        "app_instance",
        "collection",
        "record",
        "entity_name",
        "message",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RollbackAddForm(forms.ModelForm):
    """The scope of a new rollback; its preview is worked out when it is saved."""

    class Meta:
        model = Rollback
        fields = [
            "organization",
            "scope",
            "transaction_id",
            "app_instance",
            "since",
            "until",
            "sync_run_id",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            found = rollback.rollback_scope_parse(
                organization=cleaned["organization"],
                body={
                    "scope": cleaned.get("scope"),
                    **_scope_fields(cleaned),
                },
            )
            if not rollback.rollback_plan(found):
                raise errors.rollback_scope_empty()
        except ApiError as error:
            raise ValidationError(error.detail) from None
        self.instance.until = found.until
        return cleaned


def _scope_fields(cleaned):
    fields = {}
    for name in ("transaction_id", "sync_run_id"):
        if cleaned.get(name):
            fields[name] = str(cleaned[name])
    if cleaned.get("app_instance"):
        fields["group_id"] = cleaned["app_instance"].uid
    for name in ("since", "until"):
        if cleaned.get(name):
            fields[name] = cleaned[name].isoformat()
    return fields


@admin.register(Rollback)
class RollbackAdmin(StaffRoleMixin, admin.ModelAdmin):
    """Rollbacks of an organisation's changes: previewed on creation, then executed
    with one of the two actions, which choose for every conflicting record."""

    list_display = [
        "created_at",
        "organization",
        "scope",
        "status",
        "records",
        "conflicts",
        "executed_at",
    ]
    list_filter = ["scope", "status"]
    search_fields = ["organization__uid", "organization__name", "=transaction_id"]
    raw_id_fields = ["organization", "app_instance"]
    actions = ["execute_restoring", "execute_keeping"]
    readonly_fields = [
        "id",
        "organization",
        "scope",
        "transaction_id",
        "app_instance",
        "since",
        "until",
        "sync_run_id",
        "status",
        "preview",
        "choices",
        "requested_by",
        "created_at",
        "executed_at",
        "executed_transaction_id",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RollbackAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Viewing only: a rollback changes through its actions.
        return False if obj is not None else super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        rollback.rollback_prepare(rollback=obj, user=request.user)

    @admin.display(description="records")
    def records(self, obj):
        return obj.preview.get("counts", {}).get("records")

    @admin.display(description="conflicts")
    def conflicts(self, obj):
        return obj.preview.get("counts", {}).get("conflicts")

    @admin.action(description="Execute, restoring records changed since")
    def execute_restoring(self, request, queryset):
        self._execute(request, queryset, rollback.RESTORE)

    @admin.action(description="Execute, keeping records changed since")
    def execute_keeping(self, request, queryset):
        self._execute(request, queryset, rollback.KEEP)

    def _execute(self, request, queryset, choice):
        for found in queryset:
            choices = rollback.choices_for_every_conflict(found, choice)
            try:
                rollback.rollback_execute(
                    rollback=found, body={"choices": choices}, user=request.user
                )
            except ApiError as error:
                self.message_user(request, f"{found}: {error.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{found}: executed.", messages.SUCCESS)
