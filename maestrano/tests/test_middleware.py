"""The browser middleware runs on people's pages and passes by the machines' APIs."""

import pytest
from django.test import Client

from connec.tests.test_records_api import url


def test_an_app_request_gets_no_frame_options_and_no_cookie(invoicer):
    response = Client(HTTP_AUTHORIZATION=invoicer.authorization()).get(
        "/hub/api/v1/ping"
    )

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response.cookies == {}


def test_a_page_still_gets_frame_options_and_a_session(client, owner):
    page = client.get("/login/")
    client.force_login(owner)
    home = client.get("/", follow=True)

    assert page["X-Frame-Options"] == "DENY"
    assert home.status_code == 200
    assert home.wsgi_request.user == owner


@pytest.mark.parametrize("path", ["/hub/api/v1/account/groups", "connec"])
def test_a_signed_in_browser_is_no_credential_on_the_machine_apis(
    client, owner, invoicer, path
):
    client.force_login(owner)

    response = client.get(url(invoicer.group_id) if path == "connec" else path)

    assert response.status_code == 401


def test_impac_still_reads_the_person_s_session(client, owner, organization):
    client.force_login(owner)

    response = client.get(
        "/impac/api/v1/widgets/invoices/summary",
        {"metadata[organization_ids][]": organization.uid},
    )

    assert response.status_code == 200
