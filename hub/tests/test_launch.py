import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.test import Client

from hub import launch, services
from hub.models import AppInstance, LaunchNonce, Membership
from hub.tests.factories import (
    AppFactory,
    MembershipFactory,
    TeamFactory,
    app_listing_create,
    personas_for,
)

SSO_START = "https://invoicer.example.test/maestrano/auth/saml/init"


@pytest.fixture
def people(acme):
    return personas_for(acme)


@pytest.fixture
def invoicer(acme):
    app = AppFactory(name="Invoicer")
    app_listing_create(app, acme.tenant, host="https://invoicer.example.test/")
    return AppInstance.objects.create(app=app, organization=acme, name="Invoicer")


def portal_launch(user, uid):
    browser = Client()
    if user is not None:
        browser.force_login(user)
    return browser.get(f"/hub/launch/{uid}")


def wtk(frontend, user_uid, *, key=None, algorithm="HS256", **claims):
    """Sign a launch token as a tenant's frontend does."""
    issued = int(time.time())
    payload = {
        "iss": frontend.tenant.uid,
        "iat": issued,
        "jti": uuid.uuid4().hex,
        "user_id": user_uid,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    secret = f"{frontend.tenant.uid}:{key or frontend.key}"
    return jwt.encode(payload, secret, algorithm=algorithm)


def token_launch(uid, token, browser=None):
    browser = browser or Client()
    response = browser.get(f"/hub/api/mnoe/v1/launch/{uid}", {"wtk": token})
    return browser, response


def signed_in(browser):
    return browser.session.get("_auth_user_id")


def assert_refused(browser, response, status, code):
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert signed_in(browser) is None
    assert LaunchNonce.objects.count() == 0


# From the portal


def test_a_member_is_sent_to_the_apps_sso_start_with_the_group(people, invoicer):
    response = portal_launch(people.member, invoicer.uid)

    assert response.status_code == 302
    assert response["Location"] == f"{SSO_START}?group_id={invoicer.uid}"


def test_someone_not_signed_in_is_sent_to_the_login_page_first(invoicer):
    response = portal_launch(None, invoicer.uid)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/hub/launch/{invoicer.uid}"


@pytest.mark.parametrize("persona", ["outsider", "stranger"])
def test_people_outside_the_organisation_are_refused(people, invoicer, persona):
    response = portal_launch(getattr(people, persona), invoicer.uid)

    assert response.status_code == 403
    assert b"Launch not allowed" in response.content
    assert "Location" not in response


def test_team_rules_decide_for_members_and_not_for_admins(acme, people, invoicer):
    # given a team of the member's that is given another app only
    team = TeamFactory(organization=acme)
    team.members.add(people.member, people.admin)

    # then the member may not launch the invoicer, and the admin still may
    assert portal_launch(people.member, invoicer.uid).status_code == 403
    assert portal_launch(people.admin, invoicer.uid).status_code == 302

    # and once the team is given the invoicer, the member may too
    team.app_instances.add(invoicer)
    assert portal_launch(people.member, invoicer.uid).status_code == 302


def test_a_terminated_or_unknown_instance_is_refused_alike(people, invoicer):
    invoicer.status = AppInstance.Status.TERMINATED
    invoicer.save(update_fields=["status"])

    ended = portal_launch(people.owner, invoicer.uid)
    unknown = portal_launch(people.owner, "cld-doesnotexist")

    assert ended.status_code == 403
    assert unknown.status_code == 403


def test_an_app_with_no_address_on_the_marketplace_cannot_be_launched(people, invoicer):
    invoicer.app.listings.update(host="")

    response = portal_launch(people.owner, invoicer.uid)

    assert response.status_code == 409
    assert b"has no sign-in address" in response.content


# With a tenant's launch token


def test_a_launch_token_signs_the_person_in_and_sends_them_to_the_app(
    frontends, people, invoicer
):
    # given the person's hub session, as their frontend holds it
    session = people.member.sso_session

    # when the frontend sends them with a launch token
    browser, response = token_launch(invoicer.uid, wtk(frontends[0], people.member.uid))

    # then they arrive at the app's SSO start, signed in to the hub as themselves
    assert response.status_code == 302
    assert response["Location"] == f"{SSO_START}?group_id={invoicer.uid}"
    assert signed_in(browser) == str(people.member.pk)
    assert LaunchNonce.objects.count() == 1
    # and the session their frontend holds still works
    people.member.refresh_from_db()
    assert people.member.sso_session == session


def test_the_original_frontends_jit_nonce_is_accepted(frontends, people, invoicer):
    token = wtk(frontends[0], people.member.uid, jti=None, jit="a1b2c3")

    _, response = token_launch(invoicer.uid, token)

    assert response.status_code == 302


def test_another_frontend_of_the_same_customers_may_launch(frontends, people, invoicer):
    _, response = token_launch(invoicer.uid, wtk(frontends[1], people.member.uid))

    assert response.status_code == 302


def test_a_replayed_launch_token_is_refused(frontends, people, invoicer):
    # given a launch token already used once
    token = wtk(frontends[0], people.member.uid)
    token_launch(invoicer.uid, token)

    # when it is sent again, from another browser
    browser, response = token_launch(invoicer.uid, token)

    # then it is refused and nobody is signed in
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "launch_token_replayed"
    assert signed_in(browser) is None
    assert LaunchNonce.objects.count() == 1


def test_a_token_older_than_a_minute_is_expired(frontends, people, invoicer):
    token = wtk(frontends[0], people.member.uid, iat=int(time.time()) - 90)

    browser, response = token_launch(invoicer.uid, token)

    assert_refused(browser, response, 401, "launch_token_expired")


def test_a_token_past_its_own_expiry_is_expired(frontends, people, invoicer):
    token = wtk(frontends[0], people.member.uid, exp=int(time.time()) - 30)

    browser, response = token_launch(invoicer.uid, token)

    assert_refused(browser, response, 401, "launch_token_expired")


def test_a_few_seconds_of_clock_skew_are_tolerated(frontends, people, invoicer):
    ahead = wtk(frontends[0], people.member.uid, iat=int(time.time()) + 3)
    behind = wtk(frontends[0], people.member.uid, iat=int(time.time()) - 63)

    assert token_launch(invoicer.uid, ahead)[1].status_code == 302
    assert token_launch(invoicer.uid, behind)[1].status_code == 302


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (
            lambda frontends, uid: wtk(
                frontends[0], uid, key="not-the-key-" + "x" * 40
            ),
            "its signature does not match",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, iss=frontends[1].tenant.uid),
            "its signature does not match",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, iss="tnt-nobody"),
            "its issuer is not a tenant",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, iss=None),
            "its issuer is not a tenant",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, iat=int(time.time()) + 120),
            "it was issued in the future",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, jti=None),
            "it carries no jti nonce",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid, algorithm="HS384"),
            "The specified alg value is not allowed",
        ),
        (
            lambda frontends, uid: jwt.encode(
                {"iss": frontends[0].tenant.uid, "iat": int(time.time())},
                None,
                algorithm="none",
            ),
            "The specified alg value is not allowed",
        ),
        (lambda frontends, uid: "not.a.jwt", "it is not a JWT"),
        (lambda frontends, uid: "", "it is not a JWT"),
        # JSON spells a NUL as \u0000; no uid holds one.
        (
            lambda frontends, uid: jwt.encode({"iss": "tnt-\x00"}, "k" * 32),
            "its issuer is not a tenant",
        ),
        (
            lambda frontends, uid: wtk(frontends[0], uid + "\x00"),
            "its user_id is not a customer of this tenant",
        ),
    ],
)
def test_a_forged_or_malformed_token_is_refused(
    frontends, people, invoicer, token, detail
):
    browser, response = token_launch(invoicer.uid, token(frontends, people.member.uid))

    assert_refused(browser, response, 401, "launch_token_invalid")
    assert response.json()["errors"][0]["detail"] == (
        f"The launch token was refused: {detail}."
    )


def test_a_token_naming_someone_outside_the_tenants_customers_is_refused(
    frontends, invoicer
):
    # given a person of the third frontend's own base, and the first's token
    foreigner = MembershipFactory(
        organization=services.organization_create(
            tenant=frontends[2].tenant, name="Elsewhere"
        ),
        role=Membership.Role.SUPER_ADMIN,
    ).user

    browser, response = token_launch(invoicer.uid, wtk(frontends[0], foreigner.uid))

    assert_refused(browser, response, 401, "launch_token_invalid")
    assert "not a customer of this tenant" in response.json()["errors"][0]["detail"]


def test_a_tenant_cannot_vouch_for_another_tenants_customer(
    frontends, people, invoicer
):
    browser, response = token_launch(invoicer.uid, wtk(frontends[2], people.member.uid))

    assert_refused(browser, response, 401, "launch_token_invalid")


def test_an_instance_the_person_may_not_launch_is_refused_and_the_token_kept(
    frontends, people, invoicer
):
    token = wtk(frontends[0], people.outsider.uid)

    browser, response = token_launch(invoicer.uid, token)

    assert_refused(browser, response, 403, "launch_forbidden")


def test_a_tenant_whose_key_predates_launch_tokens_must_reissue_it(
    frontends, people, invoicer
):
    # given the first frontend's key kept as a digest only, as before launch tokens
    tenant = frontends[0].tenant
    tenant.api_key_sealed = ""
    tenant.save(update_fields=["api_key_sealed"])

    browser, response = token_launch(invoicer.uid, wtk(frontends[0], people.member.uid))

    assert_refused(browser, response, 409, "launch_key_unavailable")

    # when it is issued a new key, tokens signed with it are accepted
    new_key = services.tenant_key_rotate(tenant=tenant)
    token = wtk(frontends[0], people.member.uid, key=new_key)
    assert token_launch(invoicer.uid, token)[1].status_code == 302


def test_used_nonces_are_pruned_once_long_expired(frontends, people, invoicer):
    # given a nonce whose token expired well over the margin ago
    tenant = frontends[0].tenant
    long_ago = datetime.now(UTC) - launch.NONCE_PRUNE_MARGIN - timedelta(minutes=1)
    LaunchNonce.objects.create(tenant=tenant, nonce_digest="old", expires_at=long_ago)

    # when another launch happens
    token_launch(invoicer.uid, wtk(frontends[0], people.member.uid))

    # then only the new nonce is kept
    assert LaunchNonce.objects.filter(nonce_digest="old").exists() is False
    assert LaunchNonce.objects.count() == 1
