"""An invoice travels from one app to another over real HTTP and a real worker."""

import time

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from connec.tests.test_records_api import INVOICE
from maestrano.testing import app_setup

pytestmark = pytest.mark.e2e


def test_invoice_posted_by_one_app_reaches_the_other_by_webhook(
    live_server, celery_worker_process, webhook_receiver, organization
):
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    collection_url = f"{live_server.url}/connec/api/v2/{invoicer.group_id}/invoices"
    auth = (invoicer.api_id, invoicer.api_key)

    posted_at = time.monotonic()
    created = requests.post(
        collection_url, json={"invoices": INVOICE}, auth=auth, timeout=10
    )
    [notification] = webhook_receiver.wait(1, timeout=10)
    elapsed = time.monotonic() - posted_at

    assert created.status_code == 201
    invoice = created.json()["invoices"]
    assert elapsed < 2.0
    assert notification.headers["Authorization"] == ledger.authorization()
    body = Webhook(ledger.listing.webhook_secret).verify(
        notification.body, notification.headers
    )
    assert body == {"invoices": [{**invoice, "group_id": ledger.group_id}]}

    fetched = requests.get(f"{collection_url}/{invoice['id']}", auth=auth, timeout=10)
    assert fetched.json() == {"invoices": invoice}
