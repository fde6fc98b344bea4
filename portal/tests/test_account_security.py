"""Account security in the portal: password reset, second factor, CSRF, redirects."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub import services
from hub.models import AuditEvent
from hub.tests.factories import UserFactory
from portal import security

PASSWORD = "a-good-password"
NEW_PASSWORD = "another-strong-secret"


@pytest.fixture
def pat(db):
    return UserFactory(email="pat@acme.test")


@pytest.fixture
def totp_user(pat):
    """Pat, with a confirmed authenticator app."""
    TOTPDevice.objects.create(user=pat, name="Phone", confirmed=True)
    return pat


def current_code(device):
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device):
    return f"{(int(current_code(device)) + 1) % 10**6:06d}"


def login(client, email=None, password=PASSWORD, **extra):
    return client.post(
        "/login/", {"username": email or "pat@acme.test", "password": password, **extra}
    )


def signed_in(client):
    return "_auth_user_id" in client.session


# Password reset


def _reset_link(body):
    return re.search(r"https?://[^/\s]+(/password-reset/\S+/)", body).group(1)


def test_a_password_reset_by_mail_sets_the_new_password(client, pat):
    # given Pat, locked out by wrong passwords and signed in at apps
    for _ in range(services.MAX_FAILED_LOGINS):
        login(client, password="wrong")
    pat.refresh_from_db()
    old_session = pat.sso_session
    assert pat.is_locked() is True

    # when Pat asks for a reset and follows the link in the mail
    asked = client.post("/password-reset/", {"email": "PAT@acme.test"})
    [message] = mail.outbox
    form_page = client.get(_reset_link(message.body), follow=True)
    saved = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then the new password works, the lock is lifted and app sessions ended
    assert asked.status_code == 302
    assert asked["Location"] == "/password-reset/sent/"
    assert message.to == ["pat@acme.test"]
    assert message.subject == "Reset your Maestrano password"
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    assert saved.status_code == 302
    assert saved["Location"] == "/password-reset/done/"
    pat.refresh_from_db()
    assert pat.check_password(NEW_PASSWORD) is True
    assert (pat.is_locked(), pat.failed_login_count) == (False, 0)
    assert pat.sso_session != old_session
    assert login(Client(), password=NEW_PASSWORD).status_code == 302


def test_a_reset_link_works_once(client, pat):
    client.post("/password-reset/", {"email": "pat@acme.test"})
    link = _reset_link(mail.outbox[0].body)
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    again = Client().get(link, follow=True)

    assert again.context["validlink"] is False
    pat.refresh_from_db()
    assert pat.check_password(NEW_PASSWORD) is True


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, db):
    response = client.post("/password-reset/", {"email": "nobody@acme.test"})

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def test_a_weak_new_password_is_refused(client, pat):
    client.post("/password-reset/", {"email": "pat@acme.test"})
    page = client.get(_reset_link(mail.outbox[0].body), follow=True)

    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "password", "new_password2": "password"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    pat.refresh_from_db()
    assert pat.check_password(PASSWORD) is True


# Second factor: enrolment


def test_a_person_enrols_an_authenticator_app(client, pat):
    client.force_login(pat)

    # when Pat starts the enrolment and reads the page
    started = client.post("/account/two-factor/", {"action": "start"})
    page = client.get("/account/two-factor/")
    device = TOTPDevice.objects.get(user=pat)

    # then the page shows the QR code as SVG and the key, not yet in force
    assert started.status_code == 302
    assert page.status_code == 200
    content = page.content.decode()
    assert "<svg" in content
    assert page.context["secret"] in content
    assert device.confirmed is False

    # when Pat confirms with the code the app computes
    confirmed = client.post(
        "/account/two-factor/", {"action": "confirm", "code": current_code(device)}
    )

    # then the second factor is on, and on record
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert AuditEvent.objects.filter(action="two_factor.enable", actor=pat).count() == 1


def test_a_wrong_code_does_not_confirm_the_enrolment(client, pat):
    client.force_login(pat)
    client.post("/account/two-factor/", {"action": "start"})
    device = TOTPDevice.objects.get(user=pat)

    response = client.post(
        "/account/two-factor/", {"action": "confirm", "code": wrong_code(device)}
    )

    assert response.status_code == 400
    assert response.context["error"].startswith("The code is wrong")
    device.refresh_from_db()
    assert device.confirmed is False
    assert AuditEvent.objects.count() == 0


def test_turning_it_off_needs_a_current_code(client, totp_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client.force_login(totp_user)
    device = TOTPDevice.objects.get(user=totp_user)

    refused = client.post(
        "/account/two-factor/", {"action": "disable", "code": wrong_code(device)}
    )
    still_on = TOTPDevice.objects.filter(user=totp_user, confirmed=True).count()
    done = client.post(
        "/account/two-factor/", {"action": "disable", "code": current_code(device)}
    )

    assert (refused.status_code, still_on) == (400, 1)
    assert done.status_code == 302
    assert TOTPDevice.objects.filter(user=totp_user).count() == 0


def test_enrolling_again_while_on_is_refused(client, totp_user):
    client.force_login(totp_user)

    response = client.post("/account/two-factor/", {"action": "start"})

    assert response.status_code == 409
    assert TOTPDevice.objects.filter(user=totp_user).count() == 1


# Second factor: login


def test_login_asks_for_the_code_then_signs_in(client, totp_user):
    device = TOTPDevice.objects.get(user=totp_user)

    # when Pat gives the right password
    first = login(client, next="/access-requests/")

    # then the code is asked for, and Pat is not signed in yet
    assert first.status_code == 302
    assert first["Location"] == "/login/code/"
    assert signed_in(client) is False
    assert client.get("/").status_code == 302

    # when Pat gives the code of the app
    second = client.post("/login/code/", {"code": current_code(device)})

    # then Pat is signed in and lands where they were going
    assert second.status_code == 302
    assert second["Location"] == "/access-requests/"
    assert signed_in(client) is True
    assert int(client.session["_auth_user_id"]) == totp_user.pk


def test_a_wrong_code_is_refused(client, totp_user):
    device = TOTPDevice.objects.get(user=totp_user)
    login(client)

    response = client.post("/login/code/", {"code": wrong_code(device)})

    assert response.status_code == 400
    assert response.context["form"].errors["code"] == [
        "The code is wrong or no longer valid; enter the one your app shows now."
    ]
    assert signed_in(client) is False


def test_a_code_is_good_once(client, totp_user):
    device = TOTPDevice.objects.get(user=totp_user)
    code = current_code(device)
    login(client)
    client.post("/login/code/", {"code": code})
    other = Client()
    login(other)

    replayed = other.post("/login/code/", {"code": code})

    assert replayed.status_code == 400
    assert signed_in(other) is False


def test_too_many_wrong_codes_ask_for_the_password_again(client, totp_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.get(user=totp_user)
    login(client)

    for _ in range(security.MAX_CODE_ATTEMPTS - 1):
        client.post("/login/code/", {"code": wrong_code(device)})
    last = client.post("/login/code/", {"code": wrong_code(device)})
    after = client.post("/login/code/", {"code": current_code(device)})

    assert last["Location"] == "/login/"
    assert after["Location"] == "/login/"
    assert signed_in(client) is False


def test_a_stale_password_step_asks_for_the_password_again(client, totp_user):
    device = TOTPDevice.objects.get(user=totp_user)
    login(client)
    session = client.session
    session[security.PENDING_LOGIN]["since"] -= security.PENDING_LOGIN_SECONDS + 1
    session.save()

    response = client.post("/login/code/", {"code": current_code(device)})

    assert response["Location"] == "/login/"
    assert signed_in(client) is False


def test_the_code_page_without_a_password_step_sends_to_login(client, db):
    assert client.get("/login/code/")["Location"] == "/login/"


def test_a_wrong_password_never_reaches_the_code_step(client, totp_user):
    response = login(client, password="wrong")

    assert response.status_code == 200
    assert security.PENDING_LOGIN not in client.session


# Open redirects


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_off_site(client, pat, target):
    response = login(client, next=target)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client) is True


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_the_code_step_never_redirects_off_site(client, totp_user, target):
    device = TOTPDevice.objects.get(user=totp_user)
    login(client, next=target)

    response = client.post("/login/code/", {"code": current_code(device)})

    assert response["Location"] == "/"


def test_login_follows_a_next_on_this_site(client, pat):
    response = login(client, next="/access-requests/")

    assert response["Location"] == "/access-requests/"


# CSRF


PORTAL_FORMS = [
    "/login/",
    "/login/code/",
    "/logout/",
    "/password-reset/",
    "/password-reset/MQ/set-password/",
    "/account/two-factor/",
    "/access-requests/1/approve/",
    "/access-requests/1/deny/",
    "/impersonation/stop/",
]


@pytest.mark.parametrize("url", PORTAL_FORMS)
@pytest.mark.parametrize("signed", [False, True], ids=["anonymous", "signed-in"])
def test_every_portal_form_refuses_a_post_without_csrf_token(pat, url, signed):
    client = Client(enforce_csrf_checks=True)
    if signed:
        client.force_login(pat)

    response = client.post(url, {"username": "pat@acme.test", "password": PASSWORD})

    assert response.status_code == 403
    assert signed_in(client) is signed


def test_the_login_form_works_with_its_csrf_token(pat):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
    )

    response = client.post(
        "/login/",
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "pat@acme.test",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert signed_in(client) is True


def test_the_admin_login_sends_staff_through_the_portal_login(client, db):
    # given a staff member with a second factor
    staff = UserFactory(email="ops@maestrano.test", is_staff=True)
    TOTPDevice.objects.create(user=staff, name="Phone", confirmed=True)

    # when they try the admin's own login page with their password
    posted = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@maestrano.test", "password": PASSWORD},
    )
    landing = client.get("/admin/", follow=True)

    # then the portal's login (with its code step) is the only way in
    assert posted.status_code == 302
    assert posted["Location"] == "/login/?next=/admin/"
    assert signed_in(client) is False
    assert landing.redirect_chain[-1][0] == "/login/?next=%2Fadmin%2F"
