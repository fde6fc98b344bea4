"""The APIs answer JSON whatever a client says it accepts."""

import pytest

from hub.billing.models import Bill


@pytest.mark.parametrize("accept", ["text/xml", "text/html", "application/json", ""])
def test_the_developer_api_answers_json_to_any_accept_header(invoicer, accept):
    response = invoicer.client().get("/hub/api/v1/ping", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "success": True,
        "errors": {},
        "data": {"msg": f"Authenticated as {invoicer.api_id}"},
    }


def test_a_bill_is_created_with_an_accept_header_the_api_does_not_render(invoicer):
    response = invoicer.client().post(
        "/hub/api/v1/account/bills",
        {"group_id": invoicer.group_id, "price_cents": 990, "description": "Seats"},
        format="json",
        HTTP_ACCEPT="text/xml",
    )

    assert response.status_code == 200
    bill = Bill.objects.get()
    assert response.json()["data"]["id"] == bill.uid
    assert (bill.price_cents, bill.description) == (990, "Seats")
