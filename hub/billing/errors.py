"""Stable error codes of billing, with the messages apps read beside each field."""

MESSAGES = {
    "blank": "can't be blank",
    "group_unknown": "does not exist or cannot be charged by your service",
    "not_an_integer": "must be an integer",
    "not_a_number": "is not a number",
    "not_a_boolean": "must be true or false",
    "not_a_time": "is not an ISO 8601 date or time",
    "not_positive": "must be greater than 0",
    "negative": "must be greater than or equal to 0",
    "too_large": "is too large",
    "too_precise": "must have at most 2 decimal places",
    "currency_unknown": "is not a known ISO 4217 currency code",
    "period_reversed": "can't be before period_started_at",
    "period_unknown": "must be one of Day, Week, SemiMonth, Month, Year",
    "cycle_too_long": "makes one cycle last longer than a year",
    "semimonth_frequency": "must be 1 when the period is SemiMonth",
    "start_in_past": "can't be in the past",
    "already_invoiced": "has already been set to invoiced and cannot be changed",
}


class BillingError(Exception):
    """Input a billing service refuses, as error codes keyed by attribute."""

    def __init__(self, codes: dict[str, list[str]]):
        super().__init__(codes)
        self.codes = codes

    @property
    def messages(self) -> dict[str, list[str]]:
        return {
            field: [MESSAGES[code] for code in codes]
            for field, codes in self.codes.items()
        }
