"""The foundation's flow over real HTTP, a real Celery worker and a real receiver.

An app writes an invoice; the company's other app receives it by webhook; the widget
counts it; the customer sees it in the portal.
"""

import re
import time

import pytest
import requests
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from hub.models import Membership
from hub.tests.factories import MembershipFactory, UserFactory
from maestrano.testing import app_setup

pytestmark = pytest.mark.e2e


def test_an_invoice_travels_from_app_to_app_to_the_widget_and_the_portal(
    live_server, celery_worker_process, webhook_receiver, organization
):
    # given two apps of one company, and one of its people
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    person = UserFactory(email="owner@acme.test")
    MembershipFactory(
        user=person, organization=organization, role=Membership.Role.SUPER_ADMIN
    )
    invoice = {
        "type": "CUSTOMER",
        "status": "AUTHORISED",
        "title": "Annual maintenance",
        "transaction_number": "INV-E2E-1",
        "transaction_date": timezone.localdate().isoformat(),
        "amount": {"total_amount": 1234.5, "currency": "USD"},
        "balance": 234.5,
    }
    collection_url = f"{live_server.url}/connec/api/v2/{invoicer.group_id}/invoices"
    auth = (invoicer.api_id, invoicer.api_key)

    # when Invoicer posts the invoice
    posted_at = time.monotonic()
    created = requests.post(
        collection_url, json={"invoices": invoice}, auth=auth, timeout=10
    )
    [notification] = webhook_receiver.wait(1, timeout=10)
    elapsed = time.monotonic() - posted_at

    # then Ledger receives it within two seconds, signed and with its own credentials
    assert created.status_code == 201
    stored = created.json()["invoices"]
    assert elapsed < 2.0
    assert notification.path == "/maestrano/connec/notifications"
    assert notification.headers["Authorization"] == ledger.authorization()
    body = Webhook(ledger.listing.webhook_secret).verify(
        notification.body, notification.headers
    )
    assert body == {"invoices": [{**stored, "group_id": ledger.group_id}]}

    # and reading it back gives the same record
    fetched = requests.get(f"{collection_url}/{stored['id']}", auth=auth, timeout=10)
    assert fetched.json() == {"invoices": stored}

    # and the widget counts it
    widget = requests.get(
        f"{live_server.url}/impac/api/v1/widgets/invoices/summary",
        params={"metadata[organization_ids][]": organization.uid},
        auth=(ledger.api_id, ledger.api_key),
        timeout=10,
    )
    assert widget.status_code == 200
    assert widget.json()["content"]["totals"] == {
        "invoiced": 1234.5,
        "paid": 1000.0,
        "due": 234.5,
    }

    # and the customer sees it in the portal
    browser = requests.Session()
    login_page = browser.get(f"{live_server.url}/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
    page = browser.post(
        f"{live_server.url}/login/",
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": "owner@acme.test",
            "password": "a-good-password",
        },
        headers={"Referer": f"{live_server.url}/login/"},
        timeout=10,
    )
    assert page.url == f"{live_server.url}/orgs/{organization.uid}/"
    assert "Annual maintenance" in page.text
    assert invoicer.group_id in page.text
    assert "1,234.50" in page.text
