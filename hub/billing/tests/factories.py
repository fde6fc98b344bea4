import factory

from hub.billing.models import Bill, RecurringBill
from hub.tests.factories import AppInstanceFactory


class BillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bill

    app_instance = factory.SubFactory(AppInstanceFactory)
    price_cents = 1500
    currency = "USD"
    description = factory.Sequence(lambda n: f"Usage {n}")


class RecurringBillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecurringBill

    app_instance = factory.SubFactory(AppInstanceFactory)
    price_cents = 4900
    currency = "USD"
    description = factory.Sequence(lambda n: f"Plan {n}")
