import io
import json

from django.core.management import call_command

from connec.models import Record
from hub.models import Organization
from maestrano.benchmarks import connec_query


def run_benchmark(live_server):
    out = io.StringIO()
    call_command(
        "benchmark",
        "connec_query",
        "--url",
        live_server.url,
        "--seconds",
        "0.3",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


def benchmark_records():
    return Record.objects.filter(organization__name=connec_query.ORGANIZATION_NAME)


def test_connec_query_reports_p50_latency_beside_the_raw_query(live_server):
    [figure] = run_benchmark(live_server)

    assert list(figure) == [
        "name",
        "value",
        "unit",
        "ceiling",
        "ratio",
        "target",
        "met",
    ]
    assert figure["name"] == "connec_query"
    assert figure["unit"] == "ms (p50)"
    assert figure["target"] == 10.0
    assert figure["value"] > 0
    assert figure["ceiling"] > 0
    assert figure["met"] is (figure["ratio"] <= 10.0)
    # The test settings ask for 2,000 records, not a million.
    assert benchmark_records().count() == 2000


def test_connec_query_keeps_its_records_for_the_next_run_until_dropped(live_server):
    run_benchmark(live_server)
    first_ids = set(benchmark_records().values_list("id", flat=True))

    run_benchmark(live_server)
    kept_ids = set(benchmark_records().values_list("id", flat=True))
    out = io.StringIO()
    call_command("benchmark_drop", "connec_query", stdout=out, stderr=io.StringIO())

    assert kept_ids == first_ids
    assert out.getvalue() == "connec_query: deleted 2000 records\n"
    assert benchmark_records().count() == 0
    assert not Organization.objects.filter(name=connec_query.ORGANIZATION_NAME).exists()


def test_an_interrupted_load_is_completed_by_the_next_run(live_server):
    run_benchmark(live_server)
    kept = set(
        benchmark_records()
        .order_by("created_at", "id")[:500]
        .values_list("id", flat=True)
    )
    benchmark_records().exclude(id__in=kept).delete()

    run_benchmark(live_server)

    records = benchmark_records()
    assert records.count() == 2000
    assert set(records.values_list("id", flat=True)) >= kept
    assert records.filter(document__transaction_number="INV-0002000").count() == 1
