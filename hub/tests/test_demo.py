import json

from django.core.management import call_command

from hub import selectors
from hub.models import App, AppInstance, AppListing, Organization, Tenant, User


def run_demo(*args):
    from io import StringIO

    out = StringIO()
    call_command("demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_demo_creates_a_company_with_two_apps_that_share_invoices(db):
    demo = run_demo("--receiver-url", "http://127.0.0.1:9999")

    organization = Organization.objects.get(uid=demo["organization"]["uid"])
    user = User.objects.get(uid=demo["user"]["uid"])
    assert user.check_password(demo["user"]["password"])
    assert selectors.membership_role(user, organization) == "Super Admin"
    assert set(demo["apps"]) == {"invoicer", "ledger"}
    for credentials in demo["apps"].values():
        listing = selectors.app_listing_authenticate(
            credentials["api_id"], credentials["api_key"]
        )
        assert listing.notification_url == (
            "http://127.0.0.1:9999/maestrano/connec/notifications"
        )
        assert listing.subscriptions == ["invoices"]
        assert listing.webhook_secret == credentials["webhook_secret"]
        instance = selectors.app_instance_for_listing(listing, credentials["group_id"])
        assert instance.organization == organization


def test_demo_run_twice_creates_nothing_more_and_prints_the_same(db):
    first = run_demo()
    second = run_demo()

    assert first == second
    assert Tenant.objects.count() == 1
    assert User.objects.count() == 1
    assert Organization.objects.count() == 1
    assert App.objects.count() == 2
    assert AppListing.objects.count() == 2
    assert AppInstance.objects.count() == 2
    assert first["receiver_url"] == "http://127.0.0.1:8765"


def test_demo_without_a_receiver_url_keeps_the_one_given_before(db):
    run_demo("--receiver-url", "http://127.0.0.1:18301")

    demo = run_demo()

    assert demo["receiver_url"] == "http://127.0.0.1:18301"
    hosts = AppListing.objects.order_by("pk").values_list("host", flat=True)
    assert list(hosts) == ["http://127.0.0.1:18301", "http://127.0.0.1:18301"]


def test_demo_with_a_receiver_url_moves_both_apps_there(db):
    run_demo("--receiver-url", "http://127.0.0.1:18301")

    demo = run_demo("--receiver-url", "http://127.0.0.1:18302")

    assert demo["receiver_url"] == "http://127.0.0.1:18302"
    hosts = AppListing.objects.order_by("pk").values_list("host", flat=True)
    assert list(hosts) == ["http://127.0.0.1:18302", "http://127.0.0.1:18302"]
