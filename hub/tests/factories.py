import factory

from hub import services
from hub.models import App, AppInstance, Membership, Organization, Tenant, User


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Marketplace {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = "Pat"
    surname = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", "a-good-password")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Company {n}")
    currency = "USD"
    country = "US"
    timezone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    nid = factory.Sequence(lambda n: f"app-{n}")
    name = factory.Sequence(lambda n: f"App {n}")


class AppInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppInstance

    app = factory.SubFactory(AppFactory)
    organization = factory.SubFactory(OrganizationFactory)
    name = factory.LazyAttribute(lambda instance: instance.app.name)


def app_listing_create(app, tenant, **fields):
    """Return a listing with its plain API key attached as ``api_key``."""
    fields.setdefault("host", "http://127.0.0.1:9")
    fields.setdefault("subscriptions", ["invoices"])
    listing, api_key = services.app_listing_create(app=app, tenant=tenant, **fields)
    listing.api_key = api_key
    return listing
