"""Idempotent writes: a POST retried with the same ``Idempotency-Key`` header gets
the first answer back, and nothing is written again."""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import errors
from .models import IdempotencyKey

KEY_LIFETIME = datetime.timedelta(hours=24)
MAX_KEY_LENGTH = 255


def request_fingerprint(method: str, path: str, body) -> str:
    """Hash what makes two requests the same: method, path and the parsed body."""
    canonical = json.dumps(
        [method.upper(), path, body],
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_answer(
    *, owner: str, key: str, fingerprint: str, run: Callable[[], tuple[int, object]]
) -> tuple[int, object]:
    """Return the answer stored under ``key``, or ``run()`` and store its answer.

    The key row is inserted before ``run`` and in the same transaction as its
    writes: a concurrent retry waits on the key's unique index until the first
    request commits, then reads its answer. If ``run`` raises, nothing is kept and
    a retry runs again.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.invalid_idempotency_key(
            f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters."
        )

    now = timezone.now()
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            owner=owner, key=key, expires_at__lte=now
        ).delete()
        try:
            with transaction.atomic():
                entry = IdempotencyKey.objects.create(
                    owner=owner,
                    key=key,
                    fingerprint=fingerprint,
                    expires_at=now + KEY_LIFETIME,
                )
        except IntegrityError:
            return _stored_answer(owner, key, fingerprint)

        status, body = run()
        entry.response_status = status
        entry.response_body = body
        entry.save(update_fields=["response_status", "response_body"])
    return status, body


def _stored_answer(owner, key, fingerprint):
    entry = IdempotencyKey.objects.get(owner=owner, key=key)
    if entry.fingerprint != fingerprint:
        raise errors.idempotency_key_reused(key)
    return entry.response_status, entry.response_body


def idempotency_keys_purge() -> int:
    """Delete the keys past their lifetime; return how many went."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
