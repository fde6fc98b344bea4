"""``connec_query``: a filtered page of 100 invoices out of a million, over HTTP.

The product is the list path of the Connec! API: authentication, the group check,
compiling ``$filter``, the page and its total, and the JSON answer. Its ceiling is
PostgreSQL alone: the same page and total asked by psycopg2 in hand-written SQL,
in the same run, taking turns with the API so that a busy neighbour weighs on
both. The figure is the median latency of each, lower being better: the target is
an API no slower than ten times the raw query.

The million invoices belong to an organisation of their own in the demo tenant.
Loading them takes minutes, so they stay for the next run (a run resumes a load
that was interrupted); ``manage.py benchmark_drop connec_query`` deletes them.
"""

import http.client
import itertools
import json
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg2
from django.conf import settings
from django.db import connection, transaction

from connec.models import Record
from hub import services as hub_services
from hub.demo import demo_load
from hub.models import AppInstance, Organization, Tenant
from maestrano import launcher

from .client import KeepAliveClient
from .measure import BenchmarkFailed, Figure

NAME = "connec_query"
UNIT = "ms (p50)"
TARGET = 10.0
RECORDS = 1_000_000
PAGE = 100
ROUNDS = 3
LOAD_CHUNK = 50_000
DELETE_CHUNK = 50_000
ORGANIZATION_NAME = "Connec! query benchmark"

CITIES = [
    "Sydney",
    "Melbourne",
    "Brisbane",
    "Perth",
    "Adelaide",
    "Hobart",
    "Darwin",
    "Canberra",
    "Auckland",
    "Wellington",
    "Christchurch",
    "Singapore",
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Lisbon",
    "Rome",
    "Dublin",
    "Amsterdam",
    "Brussels",
    "Vienna",
    "Zurich",
    "Oslo",
    "Stockholm",
    "Helsinki",
    "Copenhagen",
    "Warsaw",
    "Prague",
    "Budapest",
    "Athens",
    "Istanbul",
    "Cairo",
    "Nairobi",
    "Lagos",
    "Johannesburg",
    "Toronto",
    "Montreal",
    "Vancouver",
    "Chicago",
    "Boston",
    "Denver",
    "Seattle",
    "Austin",
    "Miami",
    "Lima",
    "Santiago",
    "Bogota",
    "Mexico",
    "Tokyo",
]
STATUSES = ("DRAFT", "AUTHORISED", "PAID", "VOIDED")

# One invoice per number n, decided by n alone: a resumed load writes the same data.
# Each filter below keeps 1 record in 200 (a city and a status): 5,000 of a million.
_LOAD_SQL = """
INSERT INTO connec_record
    (id, organization_id, collection, status, document, created_by_id,
     created_at, updated_at)
SELECT
    gen_random_uuid(), %(organization)s, 'invoices', 'ACTIVE',
    jsonb_build_object(
        'type', CASE WHEN n %% 5 = 0 THEN 'SUPPLIER' ELSE 'CUSTOMER' END,
        'status', (%(statuses)s::text[])[1 + (n / 7) %% 4],
        'title', 'Consulting, batch ' || n,
        'transaction_number', 'INV-' || lpad(n::text, 7, '0'),
        'transaction_date', to_char(date '2020-01-01' + n %% 2000, 'YYYY-MM-DD'),
        'billing_address', jsonb_build_object(
            'city', (%(cities)s::text[])[1 + n %% 50], 'country', 'AU'),
        'amount', jsonb_build_object(
            'net_amount', (n %% 10000) / 4.0,
            'tax_amount', (n %% 10000) / 40.0,
            'total_amount', (n %% 10000) * 1.1 / 4.0),
        'balance', (n %% 10000) * 1.1 / 4.0
    ),
    NULL,
    -- Three records per second, so many share a created_at with a neighbour.
    timestamptz '2024-01-01 00:00:00+00' + (n / 3) * interval '1 second',
    timestamptz '2024-01-01 00:00:00+00' + (n / 3) * interval '1 second'
FROM generate_series(%(first)s, %(last)s) AS n
"""

# What a person would write for the same page: both containments are answered by
# the GIN index on document, the order by a sort of the few thousand matches.
_WHERE = """
    organization_id = %(organization)s AND collection = 'invoices'
    AND status = 'ACTIVE' AND document @> %(city)s AND document @> %(status)s
"""
_PAGE_SQL = f"""
SELECT id, status, document, created_at, updated_at FROM connec_record
WHERE {_WHERE} ORDER BY created_at, id LIMIT {PAGE}
"""
_TOTAL_SQL = f"SELECT count(*) FROM connec_record WHERE {_WHERE}"


@dataclass(frozen=True)
class LatencyFigure(Figure):
    """A latency beside the raw query's: lower is better, met at most ``target``×."""

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Measure a filtered page over HTTP and in raw SQL; keep the loaded records.

    The number of records is ``settings.BENCHMARK_CONNEC_QUERY_RECORDS`` (a
    million unless the settings say otherwise, as the test settings do).
    """
    records = getattr(settings, "BENCHMARK_CONNEC_QUERY_RECORDS", RECORDS)
    credentials = demo_load()["apps"]["invoicer"]
    organization, group_id = _benchmark_group(credentials)
    _records_load(organization, records, progress)

    queries = _queries()
    api = _ApiPage(base_url, credentials, group_id)
    raw = _RawPage(organization)
    try:
        api_times, raw_times = [], []
        for round_number in range(1, ROUNDS + 1):
            for page, times, name in ((api, api_times, "api"), (raw, raw_times, "sql")):
                label = f"{NAME} {name} {round_number}/{ROUNDS}"
                times += _latencies(
                    page, queries, seconds / ROUNDS / 2, label, progress
                )
    finally:
        api.close()
        raw.close()

    return [
        LatencyFigure(
            NAME,
            statistics.median(api_times) * 1000,
            UNIT,
            statistics.median(raw_times) * 1000,
            TARGET,
        )
    ]


def _queries():
    # Every city and status in turn, so that no page is served from one hot cache.
    pairs = itertools.product(CITIES, STATUSES)
    return itertools.cycle(list(pairs))


def _latencies(page, queries, seconds, label, progress):
    page.ask(*next(queries))  # connections open, plans cached
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or len(times) < 3:
        city, status = next(queries)
        started = time.perf_counter()
        page.ask(city, status)
        times.append(time.perf_counter() - started)
        if len(times) % 20 == 0:
            progress(f"{label}: {len(times)} pages")
    return times


class _ApiPage:
    def __init__(self, base_url, credentials, group_id):
        self.path = f"/connec/api/v2/{group_id}/invoices"
        self.http = KeepAliveClient(
            base_url, username=credentials["api_id"], password=credentials["api_key"]
        )

    def ask(self, city, status):
        text = f"billing_address.city eq '{city}' and status eq '{status}'"
        path = f"{self.path}?{urlencode({'$filter': text, '$top': PAGE})}"
        try:
            answer = self.http.get(path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A server may close a keep-alive connection left idle while the raw
            # query had its turn; a GET is safe to send again.
            self.http.close()
            answer = self.http.get(path)
        if answer.status != 200:
            raise BenchmarkFailed(
                f"GET {path} answered {answer.status}: {answer.text()}"
            )
        invoices = answer.json()["invoices"]
        if not invoices or invoices[0]["billing_address"]["city"] != city:
            raise BenchmarkFailed(f"GET {path} found no invoice of {city}")

    def close(self):
        self.http.close()


class _RawPage:
    def __init__(self, organization):
        self.organization = organization.pk
        self.connection = psycopg2.connect(
            launcher.database_url(connection.settings_dict)
        )
        self.connection.autocommit = True

    def ask(self, city, status):
        params = {
            "organization": self.organization,
            "city": json.dumps({"billing_address": {"city": city}}),
            "status": json.dumps({"status": status}),
        }
        with self.connection.cursor() as cursor:
            cursor.execute(_PAGE_SQL, params)
            rows = cursor.fetchall()
            cursor.execute(_TOTAL_SQL, params)
            cursor.fetchone()
        if not rows:
            raise BenchmarkFailed(f"the raw query found no invoice of {city}")

    def close(self):
        self.connection.close()


def _benchmark_group(credentials):
    """Return the benchmark's organisation and the demo invoicer's group in it."""
    demo_instance = AppInstance.objects.get(uid=credentials["group_id"])
    tenant = demo_instance.organization.tenant
    with transaction.atomic():
        organization = _organization(tenant)
        instance = AppInstance.objects.filter(
            app=demo_instance.app,
            organization=organization,
            status__in=AppInstance.ACTIVE_STATUSES,
        ).first() or hub_services.app_instance_create(
            app=demo_instance.app, organization=organization
        )
    return organization, instance.uid


def _organization(tenant: Tenant) -> Organization:
    organization = Organization.objects.filter(
        tenant=tenant, name=ORGANIZATION_NAME
    ).first()
    return organization or hub_services.organization_create(
        tenant=tenant, name=ORGANIZATION_NAME, currency="AUD"
    )


def _records_load(organization, records, progress):
    """Insert the invoices the organisation lacks, in chunks that each commit.

    Records are written straight into the table, without history or webhooks:
    they measure reads, and the write path has benchmarks of its own.
    """
    stored = Record.objects.filter(organization=organization).count()
    if stored >= records:
        progress(f"{NAME}: reusing {stored} stored records")
        return

    started = time.monotonic()
    dsn = launcher.database_url(connection.settings_dict)
    loader = psycopg2.connect(dsn)
    try:
        for first in range(stored + 1, records + 1, LOAD_CHUNK):
            last = min(first + LOAD_CHUNK - 1, records)
            with loader, loader.cursor() as cursor:
                cursor.execute(
                    _LOAD_SQL,
                    {
                        "organization": organization.pk,
                        "statuses": list(STATUSES),
                        "cities": CITIES,
                        "first": first,
                        "last": last,
                    },
                )
            elapsed = time.monotonic() - started
            progress(f"{NAME}: loaded {last}/{records} records in {elapsed:.0f} s")
        with loader, loader.cursor() as cursor:
            cursor.execute("ANALYZE connec_record")
    finally:
        loader.close()
    progress(f"{NAME}: loaded {records - stored} records in {elapsed:.0f} s")


def data_drop(progress) -> int:
    """Delete the benchmark's organisation and its records; return how many."""
    organization = Organization.objects.filter(name=ORGANIZATION_NAME).first()
    if organization is None:
        return 0
    deleted = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "DELETE FROM connec_record WHERE id IN (SELECT id FROM connec_record "
                "WHERE organization_id = %s LIMIT %s)",
                [organization.pk, DELETE_CHUNK],
            )
            if cursor.rowcount == 0:
                break
            deleted += cursor.rowcount
            progress(f"{NAME}: deleted {deleted} records")
    AppInstance.objects.filter(organization=organization).delete()
    organization.delete()
    return deleted
