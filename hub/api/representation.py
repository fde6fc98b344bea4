"""The Developer API's objects, in the shape the original SDKs parse."""

import datetime

from . import filters


def iso_time(moment):
    # Whole seconds: an old Java SDK failed on fractions of a second.
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bill_json(bill):
    return {
        "object": "account_bill",
        "id": bill.uid,
        "group_id": bill.app_instance.uid,
        "created_at": iso_time(bill.created_at),
        "updated_at": iso_time(bill.updated_at),
        "price_cents": bill.price_cents,
        "status": bill.status,
        "currency": bill.currency,
        "units": str(bill.units),
        "description": bill.description,
        "period_started_at": iso_time(bill.period_started_at),
        "period_ended_at": iso_time(bill.period_ended_at),
        "third_party": bill.third_party,
    }


BILL_ATTRIBUTES = {
    "id": ("uid", filters.TEXT),
    "group_id": ("app_instance__uid", filters.TEXT),
    "created_at": ("created_at", filters.TIME),
    "updated_at": ("updated_at", filters.TIME),
    "price_cents": ("price_cents", filters.INTEGER),
    "status": ("status", filters.TEXT),
    "currency": ("currency", filters.TEXT),
    "units": ("units", filters.DECIMAL),
    "description": ("description", filters.TEXT),
    "period_started_at": ("period_started_at", filters.TIME),
    "period_ended_at": ("period_ended_at", filters.TIME),
    "third_party": ("third_party", filters.BOOLEAN),
}


def recurring_bill_json(recurring_bill):
    return {
        "object": "account_recurring_bill",
        "id": recurring_bill.uid,
        "group_id": recurring_bill.app_instance.uid,
        "created_at": iso_time(recurring_bill.created_at),
        "updated_at": iso_time(recurring_bill.updated_at),
        "price_cents": recurring_bill.price_cents,
        "status": recurring_bill.status,
        "currency": recurring_bill.currency,
        "description": recurring_bill.description,
        "start_date": iso_time(recurring_bill.start_date),
        "period": recurring_bill.period,
        "frequency": recurring_bill.frequency,
        "cycles": recurring_bill.cycles,
        "initial_cents": recurring_bill.initial_cents,
        "last_execution_at": iso_time(recurring_bill.last_execution_at),
        "next_execution_at": iso_time(recurring_bill.next_execution_at),
        "remaining_cycles": recurring_bill.remaining_cycles,
    }


RECURRING_BILL_ATTRIBUTES = {
    "id": ("uid", filters.TEXT),
    "group_id": ("app_instance__uid", filters.TEXT),
    "created_at": ("created_at", filters.TIME),
    "updated_at": ("updated_at", filters.TIME),
    "price_cents": ("price_cents", filters.INTEGER),
    "status": ("status", filters.TEXT),
    "currency": ("currency", filters.TEXT),
    "description": ("description", filters.TEXT),
    "start_date": ("start_date", filters.TIME),
    "period": ("period", filters.TEXT),
    "frequency": ("frequency", filters.INTEGER),
    "cycles": ("cycles", filters.INTEGER),
    "initial_cents": ("initial_cents", filters.INTEGER),
    "last_execution_at": ("last_execution_at", filters.TIME),
    "next_execution_at": ("next_execution_at", filters.TIME),
    "remaining_cycles": ("remaining_cycles", filters.INTEGER),
}


def group_json(app_instance):
    organization = app_instance.organization
    return {
        "object": "account_group",
        "id": app_instance.uid,
        "org_uid": organization.uid,
        # Limitation: app instances keep no update time, so their creation shows.
        "created_at": iso_time(app_instance.created_at),
        "updated_at": iso_time(app_instance.created_at),
        "name": organization.name,
        "email": app_instance.principal_email,
        # Limitation: payment cards, free trials, city and main accounting are not
        # modelled yet, so apps see no card, no trial and no accounting package.
        "has_credit_card": False,
        "status": app_instance.status,
        "free_trial_end_at": None,
        "currency": organization.currency,
        "timezone": organization.timezone,
        "country": organization.country,
        "city": None,
        "main_accounting": None,
        "metadata": {"pull_disabled": False, "push_disabled": False},
    }


GROUP_ATTRIBUTES = {
    "id": ("uid", filters.TEXT),
    "org_uid": ("organization__uid", filters.TEXT),
    "created_at": ("created_at", filters.TIME),
    "updated_at": ("created_at", filters.TIME),
    "name": ("organization__name", filters.TEXT),
    "status": ("status", filters.TEXT),
    "currency": ("organization__currency", filters.TEXT),
    "timezone": ("organization__timezone", filters.TEXT),
    "country": ("organization__country", filters.TEXT),
}


def user_json(user):
    return {
        "object": "account_user",
        "id": user.uid,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        # Limitation: users have no company or country of their own yet; apps
        # get empty values.
        "company_name": None,
        "country": None,
        "sso_session": user.sso_session,
        "created_at": iso_time(user.date_joined),
        "updated_at": iso_time(user.date_joined),
    }


USER_ATTRIBUTES = {
    "id": ("uid", filters.TEXT),
    "name": ("name", filters.TEXT),
    "surname": ("surname", filters.TEXT),
    "email": ("email", filters.TEXT),
    "created_at": ("date_joined", filters.TIME),
    "updated_at": ("date_joined", filters.TIME),
}
