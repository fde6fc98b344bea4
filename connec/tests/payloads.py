"""A realistic record of every collection, written as the original platform's apps did.

References to other records are placeholders (``ref("organizations")``) because the
records they point at exist only once a test has written them: write the
collections in ``ORDER`` and give ``payload`` the ids written so far.
"""

import copy

_MARK = "@ref:"


def ref(collection):
    return f"{_MARK}{collection}"


ADDRESS = {
    "billing": {
        "attention": "Accounts payable",
        "line1": "Level 4, 88 George Street",
        "city": "Sydney",
        "region": "NSW",
        "postal_code": "2000",
        "country": "AU",
    },
    "shipping": {
        "line1": "12 Dock Road",
        "line2": "Unit 3",
        "city": "Botany",
        "region": "NSW",
        "postal_code": "2019",
        "country": "AU",
    },
}
PHONE = {"landline": "+61 2 9000 1234", "mobile": "+61 400 123 456"}


def _line(number, description, quantity, net, item=True):
    line = {
        "line_number": number,
        "description": description,
        "quantity": quantity,
        "unit_price": {"net_amount": net, "tax_rate": 10.0, "currency": "AUD"},
        "total_price": {
            "net_amount": net * quantity,
            "tax_amount": round(net * quantity / 10, 2),
            "total_amount": round(net * quantity * 11 / 10, 2),
            "currency": "AUD",
        },
        "tax_code_id": ref("tax_codes"),
    }
    if item:
        line["item_id"] = ref("items")
    return line


def _transaction(number, status, title, **fields):
    return {
        "type": "CUSTOMER",
        "status": status,
        "title": title,
        "transaction_number": number,
        "transaction_date": "2026-11-20",
        "due_date": "2026-12-20",
        "currency": "AUD",
        "amount": {
            "net_amount": 1250.0,
            "tax_amount": 125.0,
            "total_amount": 1375.0,
            "currency": "AUD",
        },
        "organization_id": ref("organizations"),
        "person_id": ref("people"),
        "billing_address": ADDRESS["billing"],
        "lines": [
            _line(1, "Espresso machine servicing", 5, 150.0),
            _line(2, "Call-out fee", 1, 500.0, item=False),
        ],
        **fields,
    }


PAYLOADS = {
    "company": {
        "name": "Acme Pty Ltd",
        "employer_id": "51 824 753 556",
        "industry": "Hospitality equipment",
        "currency": "AUD",
        "timezone": "Australia/Sydney",
        "financial_year_end_month": 6,
        "email": {"address": "hello@acme.example"},
        "website": {"url": "https://acme.example"},
        "phone": PHONE,
        "address": {"billing": ADDRESS["billing"]},
        "logo": {"logo": "https://acme.example/logo.png"},
    },
    "app_users": {
        "first_name": "Priya",
        "last_name": "Natarajan",
        "email": {"address": "priya@acme.example"},
        "phone_work": {"landline": "+61 2 9000 1200"},
        "role": "Sales manager",
        "is_admin": False,
    },
    "teams": {
        "name": "Field sales",
        "description": "Account managers for New South Wales",
        "members": [{"id": ref("app_users"), "role": "lead"}],
    },
    "organizations": {
        "name": "Bean There Cafe",
        "status": "ACTIVE",
        "industry": "Food and beverage",
        "is_customer": True,
        "is_supplier": False,
        "is_lead": False,
        "number_of_employees": 14,
        "address": ADDRESS,
        "email": {"address": "accounts@beanthere.example"},
        "phone": PHONE,
        "website": {"url": "https://beanthere.example"},
        "contact_channel": {"skype": "beanthere.cafe"},
        "assignee_id": ref("app_users"),
        "assignee_type": "AppUser",
    },
    "people": {
        "title": "Ms",
        "first_name": "Jane",
        "last_name": "Doe",
        "job_title": "Owner",
        "birth_date": "1984-03-09",
        "is_customer": True,
        "is_lead": False,
        "organization_id": ref("organizations"),
        "address_work": {"billing": ADDRESS["billing"]},
        "email": {"address": "jane@beanthere.example", "address2": "jane@home.example"},
        "phone_work": PHONE,
        "notes": [{"description": "Prefers calls after 2pm", "tag": "contact"}],
    },
    "accounts": {
        "code": "200",
        "name": "Sales",
        "description": "Income from equipment and servicing",
        "class": "REVENUE",
        "type": "REVENUE",
        "classification": "REVENUE_SALES",
        "currency": "AUD",
        "header": False,
        "status": "ACTIVE",
    },
    "tax_rates": {
        "name": "GST on income",
        "rate": 10.0,
        "type": "OUTPUT",
        "status": "ACTIVE",
    },
    "tax_codes": {
        "name": "GST",
        "reference": "OUTPUT",
        "tax_type": "OUTPUT",
        "sale_tax_rate": 10.0,
        "sale_taxes": [
            {
                "name": "GST on income",
                "rate": 10.0,
                "tax_type_applicable": "TAX_ON_AMOUNT",
                "tax_rate_id": ref("tax_rates"),
            }
        ],
        "status": "ACTIVE",
    },
    "items": {
        "code": "SRV-ESP",
        "name": "Espresso machine service",
        "description": "Full service of a two-group espresso machine",
        "reference": "SKU-10042",
        "type": "SERVICE",
        "unit": "hour",
        "is_inventoried": False,
        "sale_price": {"net_amount": 150.0, "tax_rate": 10.0, "currency": "AUD"},
        "purchase_price": {"net_amount": 60.0, "currency": "AUD"},
        "sale_tax_code_id": ref("tax_codes"),
        "sale_account_id": ref("accounts"),
    },
    "invoices": _transaction(
        "INV-0042",
        "AUTHORISED",
        "Quarterly servicing",
        balance=1375.0,
        public_note="Thank you for your business.",
        notes=[{"description": "Sent by e-mail", "tag": "delivery"}],
    ),
    "sales_orders": _transaction(
        "SO-0107", "SUBMITTED", "Spring order", expected_delivery_date="2026-12-01"
    ),
    "purchase_orders": {
        **_transaction("PO-0033", "AUTHORISED", "Spare parts restock"),
        "type": "SUPPLIER",
        "expected_delivery_date": "2026-11-30",
    },
    "quotes": _transaction(
        "QU-0019", "SUBMITTED", "Machine upgrade", expiry_date="2026-12-31"
    ),
    "credit_notes": {
        "type": "CUSTOMER",
        "status": "AUTHORISED",
        "transaction_number": "CN-0004",
        "transaction_date": "2026-11-25",
        "currency": "AUD",
        "amount": {
            "net_amount": 100.0,
            "tax_amount": 10.0,
            "total_amount": 110.0,
            "currency": "AUD",
        },
        "remaining_credit": 0.0,
        "organization_id": ref("organizations"),
        "linked_transactions": [
            {"id": ref("invoices"), "class": "Invoice", "applied_amount": 110.0}
        ],
    },
    "payments": {
        "type": "CUSTOMER",
        "status": "RECONCILED",
        "title": "Payment for INV-0042",
        "transaction_number": "PAY-0042",
        "transaction_date": "2026-12-02",
        "currency": "AUD",
        "payment_reference": "EFT 778812",
        "amount": {"total_amount": 1375.0, "currency": "AUD"},
        "organization_id": ref("organizations"),
        "account_id": ref("accounts"),
        "payment_lines": [
            {
                "amount": 1375.0,
                "linked_transactions": [
                    {
                        "id": ref("invoices"),
                        "class": "Invoice",
                        "applied_amount": 1375.0,
                    }
                ],
            }
        ],
    },
    "journals": {
        "transaction_number": "JNL-0008",
        "transaction_date": "2026-11-30",
        "title": "Depreciation for November",
        "currency": "AUD",
        "journal_lines": [
            {
                "line_number": 1,
                "line_type": "DEBIT",
                "description": "Depreciation expense",
                "net_amount": 320.0,
                "total_amount": 320.0,
                "account_id": ref("accounts"),
            },
            {
                "line_number": 2,
                "line_type": "CREDIT",
                "description": "Accumulated depreciation",
                "net_amount": 320.0,
                "total_amount": 320.0,
                "account_id": ref("accounts"),
            },
        ],
    },
    "work_locations": {
        "name": "Sydney workshop",
        "address": {"street": ADDRESS["shipping"]},
        "phone": {"landline": "+61 2 9000 5555", "fax": "+61 2 9000 5556"},
    },
    "pay_items": {
        "name": "Ordinary hours",
        "type": "EARNINGS",
        "category": "ORDINARY",
        "is_taxable": True,
        "account_id": ref("accounts"),
    },
    "pay_schedules": {
        "name": "Fortnightly",
        "schedule_type": "BIWEEKLY",
        "start_date": "2026-07-06",
        "first_week_day": 1,
        "transaction_week_day": 4,
    },
    "employees": {
        "employee_id": "E-0012",
        "title": "Mr",
        "first_name": "Tom",
        "last_name": "Nguyen",
        "full_name": "Tom Nguyen",
        "gender": "M",
        "birth_date": "1992-08-17",
        "hired_date": "2024-02-01",
        "job_title": "Service technician",
        "email": {"address": "tom@acme.example"},
        "phone": {"mobile": "+61 411 222 333"},
        "address": {"shipping": ADDRESS["shipping"]},
        "work_location_id": ref("work_locations"),
        "pay_schedule_id": ref("pay_schedules"),
        "employee_salaries": [
            {
                "name": "Technician award",
                "type": "HOURLY",
                "hourly_rate": 38.5,
                "hours_per_week": 38,
                "currency": "AUD",
                "start_date": "2024-02-01",
            }
        ],
    },
    "pay_runs": {
        "title": "Fortnight ending 15 November",
        "status": "POSTED",
        "pay_schedule_id": ref("pay_schedules"),
        "start_date": "2026-11-02",
        "end_date": "2026-11-15",
        "payment_date": "2026-11-18",
        "currency": "AUD",
        "total_earnings": 2926.0,
        "total_taxes": 512.0,
        "total_net_pay": 2414.0,
    },
    "pay_stubs": {
        "employee_id": ref("employees"),
        "pay_run_id": ref("pay_runs"),
        "start_date": "2026-11-02",
        "end_date": "2026-11-15",
        "payment_date": "2026-11-18",
        "currency": "AUD",
        "gross_pay": 2926.0,
        "total_taxes": 512.0,
        "net_pay": 2414.0,
        "lines": [
            {
                "pay_item_id": ref("pay_items"),
                "type": "EARNINGS",
                "description": "Ordinary hours",
                "hours": 76,
                "rate": 38.5,
                "amount": 2926.0,
            }
        ],
    },
    "projects": {
        "name": "Cafe fit-out",
        "description": "Install and commission three machines",
        "status": "IN_PROGRESS",
        "start_date": "2026-10-01",
        "due_date": "2027-01-31",
        "billable": True,
        "budget": {"total_amount": 18000.0, "currency": "AUD"},
        "organization_id": ref("organizations"),
    },
    "time_activities": {
        "employee_id": ref("employees"),
        "description": "Commissioning of machine 2",
        "transaction_date": "2026-11-12",
        "start_time": "2026-11-12T09:00:00+11:00",
        "end_time": "2026-11-12T12:30:00+11:00",
        "hours": 3,
        "minutes": 30,
        "billable": True,
        "project_id": ref("projects"),
        "pay_item_id": ref("pay_items"),
    },
    "time_sheets": {
        "employee_id": ref("employees"),
        "status": "APPROVED",
        "start_date": "2026-11-09",
        "end_date": "2026-11-15",
        "total_hours": 38,
        "time_sheet_lines": [
            {
                "transaction_date": "2026-11-12",
                "hours": 7.6,
                "pay_item_id": ref("pay_items"),
                "project_id": ref("projects"),
            }
        ],
    },
    "leave_applications": {
        "employee_id": ref("employees"),
        "pay_item_id": ref("pay_items"),
        "title": "Summer holiday",
        "status": "APPROVED",
        "start_date": "2026-12-22",
        "end_date": "2027-01-05",
        "units": 7,
        "unit_type": "DAYS",
    },
    "opportunities": {
        "name": "Three new machines for Bean There",
        "type": "New business",
        "sales_stage": "Proposal/Price Quote",
        "probability": 60,
        "next_step": "Site visit",
        "amount": {"total_amount": 42000.0, "currency": "AUD"},
        "expected_close_date": "2027-02-15",
        "sales_stage_changes": [
            {"sales_stage": "Prospecting", "created_at": "2026-10-01T00:00:00Z"}
        ],
        "lead_id": ref("people"),
        "assignee_id": ref("app_users"),
        "assignee_type": "AppUser",
    },
    "venues": {
        "name": "Harbourside Hall",
        "capacity": 250,
        "timezone": "Australia/Sydney",
        "address": {"billing": ADDRESS["billing"]},
        "phone": {"landline": "+61 2 9000 7777"},
    },
    "events": {
        "code": "EV-2027-01",
        "name": "Barista masterclass",
        "description": "A day of latte art and machine care",
        "url": "https://acme.example/events/masterclass",
        "start_date": "2027-03-14T09:00:00+11:00",
        "end_date": "2027-03-14T17:00:00+11:00",
        "capacity": 40,
        "currency": "AUD",
        "status": "LIVE",
        "venue_id": ref("venues"),
        "ticket_classes": [
            {
                "name": "Early bird",
                "cost": {"total_amount": 180.0, "currency": "AUD"},
                "quantity_total": 20,
                "quantity_sold": 12,
            }
        ],
    },
    "event_orders": {
        "event_id": ref("events"),
        "person_id": ref("people"),
        "status": "PAID",
        "amount": {"total_amount": 360.0, "currency": "AUD"},
        "attendees": [
            {"person_id": ref("people"), "first_name": "Jane", "last_name": "Doe"}
        ],
    },
    "warehouses": {
        "name": "Botany store",
        "address": {"shipping": ADDRESS["shipping"]},
        "phone": {"landline": "+61 2 9000 8888"},
    },
    "stock_adjustments": {
        "transaction_number": "SA-0003",
        "transaction_date": "2026-11-28",
        "title": "Stocktake November",
        "reason": "Damaged in transit",
        "warehouse_id": ref("warehouses"),
        "lines": [
            {
                "line_number": 1,
                "item_id": ref("items"),
                "quantity": -2,
                "unit_cost": 60.0,
            }
        ],
    },
}

# Every collection after the ones its payload refers to.
ORDER = (
    "company",
    "app_users",
    "teams",
    "organizations",
    "people",
    "accounts",
    "tax_rates",
    "tax_codes",
    "items",
    "invoices",
    "sales_orders",
    "purchase_orders",
    "quotes",
    "credit_notes",
    "payments",
    "journals",
    "work_locations",
    "pay_items",
    "pay_schedules",
    "employees",
    "pay_runs",
    "pay_stubs",
    "projects",
    "time_activities",
    "time_sheets",
    "leave_applications",
    "opportunities",
    "venues",
    "events",
    "event_orders",
    "warehouses",
    "stock_adjustments",
)


def references(collection) -> set[str]:
    """Return the collections the payload of ``collection`` refers to."""
    found = set()

    def visit(value):
        if isinstance(value, str) and value.startswith(_MARK):
            found.add(value.removeprefix(_MARK))
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(PAYLOADS[collection])
    return found


def payload(collection, ids: dict) -> dict:
    """Return the payload of ``collection`` with each reference set from ``ids``.

    ``ids`` maps a collection to what a reference to it should say: a Connec! id
    string, or an id array such as ``[{"id", "provider", "realm"}]``.
    """

    def fill(value):
        if isinstance(value, str) and value.startswith(_MARK):
            return copy.deepcopy(ids[value.removeprefix(_MARK)])
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return fill(PAYLOADS[collection])
