"""Pages of an organisation's shared data: what waits for approval, what changed,
duplicates to merge and changes to roll back.

Members read the pending changes and the history, as the Connec! API lets them;
deciding (approving, merging, rolling back) takes an Admin or Super Admin, checked
as the API checks it. A staff member acting as a customer is that customer here.
Each view reads its organisation, checks, calls the Connec! service and renders.
"""

import json
import re
import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from connec import collections, duplicates, rollback, selectors, sharing, transactions
from connec.models import Record, Rollback
from hub import identity
from hub import selectors as hub_selectors
from hub.models import AppInstance
from maestrano.errors import ApiError

from .views import _render

PAGE_SIZE = 25
# Far past any list's end, and a page whose offset PostgreSQL still reads.
MAX_PAGE = 10**9
# Candidates shown beside a record on its duplicates page.
MATCHES_SHOWN = 6
# Records of a rollback listed without a conflict (the conflicting ones are all
# listed, since each needs a choice); the counts cover every record.
ROLLBACK_SHOWN = 200


# Who may see and decide


def _organization(request, uid):
    # Not a member and no such organisation look the same, as on the organisation page.
    organization = hub_selectors.organization_for_user(request.user, uid)
    if organization is None:
        raise Http404("No such organisation among yours.")
    return organization


def _principal(request):
    return identity.principal_for_user(request.user)


def may_decide(request, organization) -> bool:
    """Tell whether the signed-in person may approve, merge and roll back."""
    try:
        sharing.decider_require(
            principal=_principal(request),
            organization=organization,
            group_id=organization.uid,
        )
    except ApiError:
        return False
    return True


def _decider_require(request, organization):
    if not may_decide(request, organization):
        raise PermissionDenied(
            "Only an Admin or Super Admin of the organisation may decide what is "
            "shared, merge records or roll changes back."
        )


def _record(organization, collection, record_id):
    if not collections.exists(collection):
        raise Http404("No such collection.")
    try:
        key = uuid.UUID(record_id)
    except ValueError:
        raise Http404("No such record.") from None
    record = selectors.record_get(
        organization=organization, collection=collection, record_id=key
    )
    if record is None:
        raise Http404("No such record.")
    return record


def _page_number(request) -> int:
    try:
        return min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


def _paging(request, page, total):
    """Return the links to the pages around ``page``, keeping the other parameters."""
    params = request.GET.copy()
    pages = max(1, -(-total // PAGE_SIZE))

    def link(number):
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


# What a change looks like on a page


def flattened(value, prefix="") -> dict:
    """Return a document's values by dotted path: ``lines.0.unit_price.net_amount``.

    Empty objects and lists are kept as values of their own, so that emptying a
    field shows as a change.
    """
    if isinstance(value, dict) and value:
        items = value.items()
    elif isinstance(value, list) and value:
        items = enumerate(value)
    else:
        return {prefix: value} if prefix else {}
    leaves = {}
    for key, item in items:
        leaves.update(flattened(item, f"{prefix}.{key}" if prefix else str(key)))
    return leaves


def shown(value) -> str:
    """Write a document value for people: text as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


_ABSENT = object()


def _path_key(path):
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in path.split(".")
    ]


def document_diff(before, after) -> list[dict]:
    """Return the fields that differ, each ``{path, before, after}`` as text.

    A side without the field has ``None``. Paths are in alphabetical order, list
    positions in numeric order (PostgreSQL keeps a document's keys in an order
    of its own, not the order they were written in).
    """
    old, new = flattened(before or {}), flattened(after or {})
    paths = sorted({*old, *new}, key=_path_key)
    rows = []
    for path in paths:
        was, now = old.get(path, _ABSENT), new.get(path, _ABSENT)
        if was == now:
            continue
        rows.append(
            {
                "path": path,
                "before": None if was is _ABSENT else shown(was),
                "after": None if now is _ABSENT else shown(now),
            }
        )
    return rows


def resource_name(collection: str) -> str:
    """Name a collection's record as people do: ``credit_notes`` -> ``Credit Note``."""
    singular = transactions.entity_type(collection).removeprefix("Entity::")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", singular)


def _app_name(instance):
    return instance.name or instance.app.name


def log_item(log) -> dict:
    """Return what a page shows of one transaction log."""
    resource = resource_name(log.collection) if log.collection else "Record"
    action = (log.action or log.status).capitalize()
    if log.app_instance is not None:
        source = _app_name(log.app_instance)
    elif log.user is not None:
        source = log.user.email
    else:
        source = "Connec!"
    waiting = [mapping for mapping in log.mappings if mapping.pending]
    return {
        "log": log,
        "title": f"{action} {resource}: {log.reference}",
        "source": source,
        "waiting": waiting,
        "waiting_names": ", ".join(_app_name(m.app_instance) for m in waiting),
        "diff": document_diff(log.before, log.after) if log.after else [],
    }


# Pending changes


class CommitForm(forms.Form):
    """A person's decision for the apps a record's changes wait for."""

    DECISIONS = {
        "approve": {"commit": True, "auto_commit": True},
        "once": {"commit": True},
        "never": {"push_disabled": True},
    }
    DONE = {
        "approve": "Shared with {apps}; its later changes will be too.",
        "once": "Shared with {apps} this time.",
        "never": "{apps} will never receive this record.",
    }

    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve"),
            ("once", "Approve only this time"),
            ("never", "Never share"),
        ]
    )
    group_ids = forms.MultipleChoiceField(
        error_messages={"required": "Select the apps the decision is for."}
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        instances = AppInstance.objects.filter(
            organization=organization, status__in=AppInstance.ACTIVE_STATUSES
        ).select_related("app")
        self.instances = {instance.uid: instance for instance in instances}
        self.fields["group_ids"].choices = [
            (uid, _app_name(instance)) for uid, instance in self.instances.items()
        ]

    def commit_body(self) -> dict:
        flags = self.DECISIONS[self.cleaned_data["decision"]]
        return {
            "mappings": [
                {"group_id": group_id, **flags}
                for group_id in self.cleaned_data["group_ids"]
            ]
        }

    def done_message(self) -> str:
        apps = ", ".join(
            _app_name(self.instances[uid]) for uid in self.cleaned_data["group_ids"]
        )
        return self.DONE[self.cleaned_data["decision"]].format(apps=apps)


def _pending_page(request, organization, *, error=None, status=200):
    page = _page_number(request)
    logs, total = transactions.transaction_logs_query(
        organization=organization,
        feed=transactions.PENDING,
        top=PAGE_SIZE,
        skip=(page - 1) * PAGE_SIZE,
    )
    return _render(
        request,
        "portal/transactions/pending.html",
        {
            "organization": organization,
            "items": [log_item(log) for log in logs],
            "paging": _paging(request, page, total),
            "may_decide": may_decide(request, organization),
            "error": error,
        },
        status=status,
    )


@login_required
def pending(request, uid):
    return _pending_page(request, _organization(request, uid))


@require_POST
@login_required
def record_commit(request, uid, collection, record_id):
    organization = _organization(request, uid)
    _decider_require(request, organization)
    record = _record(organization, collection, record_id)
    form = CommitForm(request.POST, organization=organization)
    if not form.is_valid():
        return _pending_page(request, organization, error=_form_error(form), status=400)
    try:
        sharing.record_commit(record=record, body=form.commit_body())
    except ApiError as refusal:
        return _pending_page(
            request, organization, error=refusal.detail, status=refusal.status
        )
    messages.success(request, form.done_message())
    return redirect("portal:transactions_pending", uid=organization.uid)


# History


class HistoryFilterForm(forms.Form):
    """The history page's filters, read from the query string."""

    action = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any action"),
            ("CREATE", "Create"),
            ("UPDATE", "Update"),
            ("ERROR", "Import error"),
        ],
    )
    collection = forms.ChoiceField(required=False)
    app = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, label="Reference")
    since = forms.DateField(required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput({"type": "date"}))
    transaction = forms.UUIDField(required=False, widget=forms.HiddenInput)
    sync_run = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(organization.timezone)
        self.fields["collection"].choices = [("", "Any collection")] + [
            (name, name) for name in collections.names()
        ]
        instances = hub_selectors.app_instances_for_organization(organization)
        self.fields["app"].choices = [("", "Any app")] + [
            (instance.uid, _app_name(instance)) for instance in instances
        ]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The first day comes after the last one.")
        return cleaned

    def _day_start(self, day):
        return datetime.combine(day, time.min, tzinfo=self.zone).isoformat()

    def filter_text(self) -> str:
        """Return the ``$filter`` of the transaction log feed these filters make."""
        data = self.cleaned_data
        clauses = []
        if data.get("action") == "ERROR":
            clauses.append("status eq 'ERROR'")
        elif data.get("action"):
            clauses.append(f"action eq {_quoted(data['action'])}")
        if data.get("collection"):
            clauses.append(f"resource_type eq {_quoted(data['collection'])}")
        if data.get("app"):
            clauses.append(f"group_id eq {_quoted(data['app'])}")
        if data.get("q", "").strip():
            clauses.append(f"reference match /{_regex_literal(data['q'].strip())}/i")
        if data.get("since"):
            clauses.append(f"created_at gte {_quoted(self._day_start(data['since']))}")
        if data.get("until"):
            # The last day is included: everything before the next day starts.
            next_day = data["until"] + timedelta(days=1)
            clauses.append(f"created_at lt {_quoted(self._day_start(next_day))}")
        if data.get("transaction"):
            clauses.append(f"transaction_id eq {_quoted(str(data['transaction']))}")
        if data.get("sync_run"):
            clauses.append(f"sync_run_id eq {_quoted(str(data['sync_run']))}")
        return " and ".join(clauses)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _regex_literal(text: str) -> str:
    # A backslash before a character that is not a letter or digit makes it
    # literal in PostgreSQL's regular expressions, and ``\/`` keeps a slash inside
    # the filter's /…/.
    return re.sub(r"([^\w\s])", r"\\\1", text)


@login_required
def history(request, uid):
    organization = _organization(request, uid)
    form = HistoryFilterForm(request.GET, organization=organization)
    items, total, page = [], 0, _page_number(request)
    if form.is_valid():
        logs, total = transactions.transaction_logs_query(
            organization=organization,
            feed=transactions.HISTORY,
            filter_text=form.filter_text(),
            top=PAGE_SIZE,
            skip=(page - 1) * PAGE_SIZE,
        )
        items = [log_item(log) for log in logs]
    return _render(
        request,
        "portal/transactions/history.html",
        {
            "organization": organization,
            "form": form,
            "items": items,
            "paging": _paging(request, page, total),
            "may_decide": may_decide(request, organization),
        },
        status=200 if form.is_valid() else 400,
    )


# Duplicates


def _columns(records) -> list[dict]:
    return [
        {"record": record, "score": getattr(record, "score", None)}
        for record in records
    ]


def _attribute_rows(records) -> list[dict]:
    """Return each top-level attribute with every record's value, and if they differ."""
    keys = []
    for record in records:
        keys.extend(key for key in record.document if key not in keys)
    rows = []
    for key in keys:
        values = [record.document.get(key, _ABSENT) for record in records]
        rows.append(
            {
                "key": key,
                "cells": [
                    {
                        "record_id": record.pk,
                        "value": None if value is _ABSENT else shown(value),
                    }
                    for record, value in zip(records, values, strict=True)
                ],
                "differs": any(value != values[0] for value in values),
            }
        )
    return rows


def _duplicates_page(request, organization, record, *, error=None, status=200):
    found, total = duplicates.record_matches(record, top=MATCHES_SHOWN, skip=0)
    records = [record, *found]
    return _render(
        request,
        "portal/transactions/duplicates.html",
        {
            "organization": organization,
            "record": record,
            "resource": resource_name(record.collection),
            "caption": _caption(record),
            "columns": _columns(records),
            "rows": _attribute_rows(records),
            "total": total,
            "may_decide": may_decide(request, organization),
            "error": error,
        },
        status=status,
    )


def _caption(record):
    for name in transactions.REFERENCE_FIELDS:
        value = record.document.get(name)
        if isinstance(value, str) and value:
            return value
    return str(record.pk)


@login_required
def record_duplicates(request, uid, collection, record_id):
    organization = _organization(request, uid)
    record = _record(organization, collection, record_id)
    return _duplicates_page(request, organization, record)


class MergeForm(forms.Form):
    """Which records become one, which of them is kept, and whose value each
    differing attribute takes (``value-<attribute>`` names a record)."""

    keep = forms.UUIDField()
    absorb = forms.TypedMultipleChoiceField(coerce=uuid.UUID, required=False)

    def __init__(self, data, *, record, organization):
        super().__init__(data)
        self.record = record
        self.organization = organization
        # Any id may be posted; the merge service refuses those that are not
        # active records of the collection.
        self.fields["absorb"].choices = [
            (value, value) for value in data.getlist("absorb")
        ]

    def clean(self):
        cleaned = super().clean()
        if "keep" not in cleaned or "absorb" not in cleaned:
            return cleaned
        members = list(dict.fromkeys([self.record.pk, *cleaned["absorb"]]))
        if cleaned["keep"] not in members:
            raise forms.ValidationError("The record kept must be one of those merged.")
        records = {
            found.pk: found
            for found in Record.objects.filter(
                organization=self.organization,
                collection=self.record.collection,
                pk__in=members,
            )
        }
        kept = records.get(cleaned["keep"])
        if kept is None:
            raise forms.ValidationError("The record kept is not in this collection.")
        cleaned["kept"] = kept
        cleaned["absorbed"] = [str(pk) for pk in members if pk != kept.pk]
        cleaned["attributes"] = self._attributes(kept, records)
        return cleaned

    def _attributes(self, kept, records):
        """Return the values the kept record takes from the others."""
        attributes = {}
        for name, source_id in self.data.items():
            if not name.startswith("value-"):
                continue
            key = name.removeprefix("value-")
            try:
                source = records.get(uuid.UUID(source_id))
            except ValueError:
                source = None
            if source is None:
                raise forms.ValidationError(
                    f"The value of {key} must come from one of the records merged."
                )
            value = source.document.get(key)
            if value != kept.document.get(key):
                # A value the chosen record lacks is removed from the kept one.
                attributes[key] = value
        return attributes

    def merge_body(self) -> dict:
        """Return the body of the merge service: the ids absorbed and the values
        the kept record takes."""
        kept = self.cleaned_data["kept"]
        return {
            "ids": self.cleaned_data["absorbed"],
            kept.collection: self.cleaned_data["attributes"],
        }


def _form_error(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


@require_POST
@login_required
def record_merge(request, uid, collection, record_id):
    organization = _organization(request, uid)
    _decider_require(request, organization)
    record = _record(organization, collection, record_id)
    form = MergeForm(request.POST, record=record, organization=organization)
    if not form.is_valid():
        return _duplicates_page(
            request, organization, record, error=_form_error(form), status=400
        )
    kept, body = form.cleaned_data["kept"], form.merge_body()
    try:
        duplicates.records_merge(record=kept, body=body, user=request.user)
    except ApiError as refusal:
        return _duplicates_page(
            request, organization, record, error=refusal.detail, status=refusal.status
        )
    merged = len(body["ids"])
    messages.success(
        request,
        f"{merged} record{'s' if merged != 1 else ''} merged into {_caption(kept)}.",
    )
    return redirect(
        "portal:record_duplicates",
        uid=organization.uid,
        collection=kept.collection,
        record_id=kept.pk,
    )


# Rollback


def _rollback_require(request, organization):
    """Let in whom the rollback API lets in: Admins, Super Admins and staff."""
    principal = _principal(request)
    allowed = principal is not None and (
        principal.may("administrate", organization) or principal.user.is_staff
    )
    if not allowed:
        raise PermissionDenied(
            "Only an Admin or Super Admin of the organisation may roll changes back."
        )


class RollbackScopeForm(forms.Form):
    """What to roll back; times are read in the organisation's time zone."""

    scope = forms.ChoiceField(
        choices=[
            (Rollback.Scope.TRANSACTION, "This transaction"),
            (Rollback.Scope.APP_WINDOW, "Everything an app wrote between two times"),
            (Rollback.Scope.SYNC_RUN, "A sync run"),
        ],
        widget=forms.RadioSelect,
    )
    transaction_id = forms.UUIDField(required=False, label="Transaction")
    group_id = forms.ChoiceField(required=False, label="App")
    since = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sync_run_id = forms.UUIDField(required=False, label="Sync run")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(organization.timezone)
        instances = hub_selectors.app_instances_for_organization(organization)
        self.fields["group_id"].choices = [("", "Choose an app")] + [
            (instance.uid, _app_name(instance)) for instance in instances
        ]

    def full_clean(self):
        with timezone.override(self.zone):
            super().full_clean()

    def preview_body(self) -> dict:
        """Return the body of the rollback preview; the service checks the scope."""
        data = self.cleaned_data
        body = {"scope": data["scope"]}
        for name in ("transaction_id", "sync_run_id"):
            if data.get(name):
                body[name] = str(data[name])
        if data.get("group_id"):
            body["group_id"] = data["group_id"]
        for name in ("since", "until"):
            if data.get(name):
                body[name] = data[name].isoformat()
        return body


def _rollback_new_page(request, organization, form, *, error=None, status=200):
    return _render(
        request,
        "portal/transactions/rollback_new.html",
        {"organization": organization, "form": form, "error": error},
        status=status,
    )


@login_required
def rollback_new(request, uid):
    organization = _organization(request, uid)
    _rollback_require(request, organization)
    if request.method != "POST":
        form = RollbackScopeForm(initial=request.GET.dict(), organization=organization)
        return _rollback_new_page(request, organization, form)

    form = RollbackScopeForm(request.POST, organization=organization)
    if not form.is_valid():
        return _rollback_new_page(request, organization, form, status=400)
    try:
        previewed = rollback.rollback_preview(
            organization=organization, body=form.preview_body(), user=request.user
        )
    except ApiError as refusal:
        return _rollback_new_page(
            request, organization, form, error=refusal.detail, status=refusal.status
        )
    return redirect("portal:rollback", uid=organization.uid, rollback_id=previewed.pk)


def rollback_entries(found: Rollback) -> tuple[list[dict], int]:
    """Return the records a rollback page lists, conflicts first, and how many
    records without a conflict are left out."""
    records = found.preview.get("records", [])
    conflicts = [entry for entry in records if entry["conflict"]]
    others = [entry for entry in records if not entry["conflict"]]
    listed = conflicts + others[:ROLLBACK_SHOWN]
    entries = []
    for entry in listed:
        current = entry["current"] or {}
        before = entry["before"]
        restored = before["document"] if before else current.get("document")
        status_after = before["status"] if before else Record.Status.ARCHIVED
        entries.append(
            {
                "id": entry["id"],
                "collection": entry["collection"],
                "resource": resource_name(entry["collection"]),
                "action": entry["action"],
                "conflict": entry["conflict"] or [],
                "choice": found.choices.get(entry["id"]),
                "status_now": current.get("status"),
                "status_after": status_after,
                "diff": document_diff(current.get("document"), restored),
            }
        )
    return entries, len(records) - len(listed)


def _rollback_page(request, organization, found, *, error=None, status=200):
    entries, left_out = rollback_entries(found)
    return _render(
        request,
        "portal/transactions/rollback.html",
        {
            "organization": organization,
            "rollback": found,
            "counts": found.preview.get("counts", {}),
            "entries": entries,
            "left_out": left_out,
            "executed": found.status == Rollback.Status.EXECUTED,
            "history_url": _history_url(organization, found),
            "error": error,
        },
        status=status,
    )


def _history_url(organization, found):
    if found.executed_transaction_id is None:
        return None
    query = urlencode({"transaction": str(found.executed_transaction_id)})
    return f"{reverse('portal:transactions_history', args=[organization.uid])}?{query}"


def _rollback_found(organization, rollback_id):
    try:
        return rollback.rollback_get(organization=organization, rollback_id=rollback_id)
    except ApiError:
        raise Http404("No such rollback.") from None


@login_required
def rollback_detail(request, uid, rollback_id):
    organization = _organization(request, uid)
    _rollback_require(request, organization)
    found = _rollback_found(organization, rollback_id)
    return _rollback_page(request, organization, found)


@require_POST
@login_required
def rollback_execute(request, uid, rollback_id):
    organization = _organization(request, uid)
    _rollback_require(request, organization)
    found = _rollback_found(organization, rollback_id)
    # A choice made for one record wins over the one for every conflict.
    everywhere = request.POST.get("every_conflict")
    choices = (
        rollback.choices_for_every_conflict(found, everywhere)
        if everywhere in rollback.CHOICES
        else {}
    )
    for entry in found.preview.get("records", []):
        choice = request.POST.get(f"choice-{entry['id']}")
        if entry["conflict"] and choice in rollback.CHOICES:
            choices[entry["id"]] = choice
    try:
        rollback.rollback_execute(
            rollback=found, body={"choices": choices}, user=request.user
        )
    except ApiError as refusal:
        found.refresh_from_db()
        return _rollback_page(
            request, organization, found, error=refusal.detail, status=refusal.status
        )
    return redirect("portal:rollback", uid=organization.uid, rollback_id=found.pk)
