import io
import json

from django.core.management import call_command
from oauth2_provider.models import get_access_token_model, get_application_model

from hub.models import User


def test_idm_prints_its_figures_and_leaves_no_person_or_token(live_server):
    # given what the database holds before the run
    people = User.objects.count()

    # when the benchmark runs (on a server of its own, whatever --url says)
    out = io.StringIO()
    call_command(
        "benchmark",
        "idm",
        "--url",
        live_server.url,
        "--seconds",
        "0.6",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )

    # then each endpoint has its figure against the bare view and its floor
    figures = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [figure["name"] for figure in figures] == [
        "idm.session_check",
        "idm.session_check_floor",
        "idm.introspection",
        "idm.introspection_floor",
    ]
    assert [figure["target"] for figure in figures] == [0.5, 1.0, 0.5, 1.0]
    assert [figure["ceiling"] for figure in figures[1::2]] == [1000.0, 1000.0]
    assert all(figure["value"] > 0 for figure in figures)
    # and the person and the tokens it made are gone
    assert User.objects.count() == people
    assert get_access_token_model().objects.count() == 0
    assert get_application_model().objects.count() == 0
