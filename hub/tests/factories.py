from dataclasses import dataclass

import factory

from hub import services
from hub.models import (
    App,
    AppInstance,
    CustomerBase,
    Membership,
    OrgaInvite,
    Organization,
    Team,
    Tenant,
    User,
)


class CustomerBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerBase

    name = factory.Sequence(lambda n: f"Customers {n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Marketplace {n}")
    customer_base = factory.SubFactory(CustomerBaseFactory)


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
    customer_base = factory.LazyAttribute(lambda org: org.tenant.customer_base)
    name = factory.Sequence(lambda n: f"Company {n}")
    currency = "USD"
    country = "US"
    timezone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(
        UserFactory, customer_base=factory.SelfAttribute("..organization.customer_base")
    )
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


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class OrgaInviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgaInvite

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Membership.Role.MEMBER


def app_listing_create(app, tenant, **fields):
    """Return a listing with its plain API key attached as ``api_key``."""
    fields.setdefault("host", "http://127.0.0.1:9")
    fields.setdefault("subscriptions", ["invoices"])
    listing, api_key = services.app_listing_create(app=app, tenant=tenant, **fields)
    listing.api_key = api_key
    return listing


@dataclass
class Personas:
    """Everyone a permission test asks about, around one organisation."""

    owner: User
    admin: User
    member: User
    outsider: User
    stranger: User


def personas_for(organization) -> Personas:
    """Add a Super Admin, an Admin and a Member to ``organization``.

    The outsider shares its customer base without being a member; the stranger
    belongs to another customer base.
    """
    role = Membership.Role
    return Personas(
        owner=MembershipFactory(organization=organization, role=role.SUPER_ADMIN).user,
        admin=MembershipFactory(organization=organization, role=role.ADMIN).user,
        member=MembershipFactory(organization=organization, role=role.MEMBER).user,
        outsider=UserFactory(customer_base=organization.customer_base),
        stranger=MembershipFactory(role=role.SUPER_ADMIN).user,
    )
