"""``hub_dev_api``: bills created and groups listed through the Developer API.

Two figures, each beside PostgreSQL alone doing the same work from as many
connections as there are HTTP clients, the two taking turns:

- bill creation over HTTP (authentication, validation, the bill row) against the
  same row inserted by psycopg2 into a scratch table, one transaction each;
- the groups list over HTTP against the select of the app's instances it needs.
"""

import datetime
import uuid

import psycopg2
from django.db import connection
from psycopg2 import sql

from hub.billing.models import Bill
from hub.demo import demo_load
from hub.models import AppInstance
from maestrano import launcher

from .client import KeepAliveClient
from .measure import BenchmarkFailed, Figure, rates_in_turns
from .scratch import scratch_table

NAME = "hub_dev_api"
TARGET = 0.20
CLIENTS = 8
ROUNDS = 3
BILL = {"price_cents": 2500, "description": "Monthly seats", "currency": "USD"}
BILL_COLUMNS = (
    "id bigserial PRIMARY KEY, uid varchar(32) UNIQUE, price_cents bigint, "
    "currency varchar(3), description text, created_at timestamptz"
)


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Measure both figures and their ceilings; leave no bill or scratch table."""
    invoicer = demo_load()["apps"]["invoicer"]
    api = f"{base_url.rstrip('/')}/hub/api/v1/account"
    dsn = launcher.database_url(connection.settings_dict)
    app_id = AppInstance.objects.get(uid=invoicer["group_id"]).app_id
    created = []
    try:
        with scratch_table(dsn, NAME, BILL_COLUMNS) as table:
            bills = _in_turns(
                {
                    "bills api": lambda: _ApiClient(
                        api, invoicer, created, _bill_create
                    ),
                    "bills ceiling": lambda: _ScratchInserter(dsn, table),
                },
                seconds,
                progress,
            )
    finally:
        progress(f"{NAME}: deleting {len(created)} bills")
        Bill.objects.filter(uid__in=created).delete()
    groups = _in_turns(
        {
            "groups api": lambda: _ApiClient(api, invoicer, created, _groups_list),
            "groups ceiling": lambda: _GroupsReader(dsn, app_id),
        },
        seconds,
        progress,
    )
    return [
        Figure(
            f"{NAME}.bill_create",
            bills["bills api"],
            "requests/s",
            bills["bills ceiling"],
            TARGET,
        ),
        Figure(
            f"{NAME}.groups_list",
            groups["groups api"],
            "requests/s",
            groups["groups ceiling"],
            TARGET,
        ),
    ]


def _in_turns(openers, seconds, progress):
    # Each figure and its ceiling take turns; together they last twice ``seconds``.
    return rates_in_turns(
        openers,
        rounds=ROUNDS,
        threads=CLIENTS,
        seconds=seconds,
        progress=progress,
        label=NAME,
    )


def _bill_create(client):
    answer = client.http.post_json(
        "/bills", {**BILL, "group_id": client.credentials["group_id"]}
    )
    if answer.status != 200:
        raise BenchmarkFailed(f"POST bills answered {answer.status}: {answer.text()}")
    client.created.append(answer.json()["data"]["id"])


def _groups_list(client):
    answer = client.http.get("/groups")
    if answer.status != 200 or not answer.json()["data"]:
        raise BenchmarkFailed(f"GET groups answered {answer.status}: {answer.text()}")


class _ApiClient:
    def __init__(self, api, credentials, created, request):
        self.credentials = credentials
        self.created = created
        self.request = request
        # One keep-alive connection per client, as an app's SDK would hold.
        self.http = KeepAliveClient(
            api, username=credentials["api_id"], password=credentials["api_key"]
        )

    def write(self):
        self.request(self)

    def close(self):
        self.http.close()


class _ScratchInserter:
    def __init__(self, dsn, table):
        self.connection = psycopg2.connect(dsn)
        self.statement = sql.SQL(
            "INSERT INTO {} (uid, price_cents, currency, description, created_at) "
            "VALUES (%s, %s, %s, %s, %s)"
        ).format(table)

    def write(self):
        with self.connection.cursor() as cursor:
            cursor.execute(
                self.statement,
                (
                    f"bill-{uuid.uuid4().hex[:10]}",
                    BILL["price_cents"],
                    BILL["currency"],
                    BILL["description"],
                    datetime.datetime.now(datetime.UTC),
                ),
            )
        self.connection.commit()

    def close(self):
        self.connection.close()


class _GroupsReader:
    def __init__(self, dsn, app_id):
        self.connection = psycopg2.connect(dsn)
        self.app_id = app_id

    def write(self):
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.uid, i.name, i.status, i.created_at, o.uid, o.currency, "
                "o.country, o.timezone FROM hub_appinstance i "
                "JOIN hub_organization o ON o.id = i.organization_id "
                "WHERE i.app_id = %s",
                [self.app_id],
            )
            cursor.fetchall()
        self.connection.commit()

    def close(self):
        self.connection.close()
