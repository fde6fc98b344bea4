import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from connec.models import Delivery, DeliveryAttempt, Record
from hub.selectors import app_listing_authenticate
from maestrano.benchmarks.measure import Figure


def run_benchmark(*args):
    out = io.StringIO()
    call_command("benchmark", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def scratch_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'benchmark_%%'"
        )
        return cursor.fetchone()[0]


def test_connec_post_prints_one_json_figure_and_leaves_nothing_behind(live_server):
    lines = run_benchmark(
        "connec_post", "--url", live_server.url, "--seconds", "1", "--json"
    )

    assert len(lines) == 1
    figure = json.loads(lines[0])
    assert list(figure) == [
        "name",
        "value",
        "unit",
        "ceiling",
        "ratio",
        "target",
        "met",
    ]
    assert figure["name"] == "connec_post"
    assert figure["unit"] == "writes/s"
    assert figure["target"] == 0.2
    assert figure["value"] > 0
    assert figure["ceiling"] > 0
    assert figure["ratio"] == pytest.approx(
        figure["value"] / figure["ceiling"], abs=0.001
    )
    assert figure["met"] is (figure["ratio"] >= 0.2)
    assert Record.objects.count() == 0
    assert Record.history.count() == 0
    assert Delivery.objects.count() == 0
    assert DeliveryAttempt.objects.count() == 0
    assert scratch_tables() == 0


def test_connec_post_gives_the_demo_its_receiver_back(live_server):
    demo = io.StringIO()
    call_command(
        "demo", "--json", "--receiver-url", "http://127.0.0.1:18199", stdout=demo
    )
    ledger = json.loads(demo.getvalue())["apps"]["ledger"]

    run_benchmark("--url", live_server.url, "--seconds", "0.5")

    listing = app_listing_authenticate(ledger["api_id"], ledger["api_key"])
    assert listing.host == "http://127.0.0.1:18199"


def test_an_unknown_benchmark_is_refused_before_anything_runs(db):
    with pytest.raises(CommandError, match="Unknown benchmark connec_get; there are"):
        run_benchmark("connec_get", "--url", "http://127.0.0.1:9")

    assert Record.objects.count() == 0


def test_a_figure_reads_as_value_ceiling_and_verdict():
    figure = Figure("connec_post", 120.0, "writes/s", 1000.0, 0.2)

    assert figure.line() == (
        "connec_post: 120.0 writes/s, ceiling 1000.0 writes/s, ratio 0.120 "
        "(target 0.20, NOT met)"
    )


def test_hub_dev_api_prints_two_figures_and_leaves_no_bill_behind(live_server):
    from hub.billing.models import Bill

    lines = run_benchmark(
        "hub_dev_api", "--url", live_server.url, "--seconds", "0.5", "--json"
    )

    figures = [json.loads(line) for line in lines]
    assert [figure["name"] for figure in figures] == [
        "hub_dev_api.bill_create",
        "hub_dev_api.groups_list",
    ]
    assert all(figure["unit"] == "requests/s" for figure in figures)
    assert all(figure["value"] > 0 and figure["ceiling"] > 0 for figure in figures)
    assert Bill.objects.count() == 0
    assert scratch_tables() == 0


def test_a_figure_may_say_what_it_came_from():
    figure = Figure(
        "rollback",
        500.0,
        "records/s",
        1000.0,
        0.5,
        detail="100 records written in 0.1 s, rolled back in 0.2 s",
    )

    assert figure.line() == (
        "rollback: 500.0 records/s, ceiling 1000.0 records/s, ratio 0.500 "
        "(target 0.50, met); 100 records written in 0.1 s, rolled back in 0.2 s"
    )
    assert figure.as_json()["detail"] == figure.detail


def test_rollback_prints_both_times_and_leaves_nothing_behind(
    transactional_db, monkeypatch
):
    from connec.models import Rollback
    from maestrano.benchmarks import rollback

    monkeypatch.setattr(rollback, "RECORDS", 100)

    (line,) = run_benchmark("rollback", "--url", "http://127.0.0.1:9", "--json")

    figure = json.loads(line)
    assert (figure["name"], figure["unit"], figure["target"]) == (
        "rollback",
        "records/s",
        0.5,
    )
    written, rolled_back = re.fullmatch(
        r"100 records written in ([0-9.]+) s, rolled back in ([0-9.]+) s",
        figure["detail"],
    ).groups()
    # the times the rates came from, to their printed hundredths of a second
    assert 100 / figure["ceiling"] == pytest.approx(float(written), abs=0.01)
    assert 100 / figure["value"] == pytest.approx(float(rolled_back), abs=0.01)
    assert Record.objects.count() == 0
    assert Record.history.count() == 0
    assert Delivery.objects.count() == 0
    assert Rollback.objects.count() == 0
