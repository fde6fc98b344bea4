"""A small JSON:API layer on DRF: resource documents, query parameters and errors.

Only what the Tenant API needs: ``filter[…]``, ``sort``, ``page[…]``,
``include`` and ``fields[…]`` on reads, ``{"data": {"type", "attributes",
"relationships"}}`` on writes, and the ``{"errors": [...]}`` body on every refusal.

Every row a document shows is loaded with what its attributes and relationships
read (``prefetch_related_objects``), so a page costs the same few queries
whatever its size.
"""

import datetime
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.utils import dateparse
from rest_framework import renderers

from maestrano.errors import ApiError, ApiErrors, api_exception_handler
from maestrano.parsers import JSONParser

MEDIA_TYPE = "application/vnd.api+json"
TEXT, INTEGER, DECIMAL, TIME, BOOLEAN = "text", "integer", "decimal", "time", "boolean"
# ``filter[created_at.gt]=…``: the operator suffixes of the original query syntax.
OPERATORS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "like": "icontains"}
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_BRACKETED = re.compile(r"^(\w+)\[([\w.]+)\]$")


class JsonApiRenderer(renderers.JSONRenderer):
    media_type = MEDIA_TYPE


class JsonApiParser(JSONParser):
    media_type = MEDIA_TYPE


class ParameterError(ApiError):
    """A refused query parameter, pointed at by ``source.parameter``."""

    def __init__(self, parameter, detail, *, code="invalid_parameter"):
        super().__init__(400, code, "Invalid query parameter", detail)
        self.parameter = parameter

    def as_dict(self):
        return {**super().as_dict(), "source": {"parameter": self.parameter}}


def not_found(type_, id_):
    return ApiError(404, "not_found", "Not found", f"No {type_} has the id {id_}.")


def invalid_attribute(name, detail, *, status=422, code="invalid_attribute"):
    return ApiError(
        status, code, "Invalid attribute", detail, field=f"/data/attributes/{name}"
    )


def exception_handler(exc, context):
    """Add the model's validation errors to the platform's error body."""
    if isinstance(exc, ValidationError):
        exc = ApiErrors(
            [
                ApiError(
                    422,
                    "invalid_attribute",
                    "Invalid attribute",
                    message,
                    field="/data" if name == "__all__" else f"/data/attributes/{name}",
                )
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        )
    return api_exception_handler(exc, context)


@dataclass(frozen=True)
class Attribute:
    """One attribute: how to read it, and the model path that filters and sorts it.

    ``needs`` names the related rows that ``read`` follows, loaded ahead for a
    whole page at once.
    """

    read: Callable
    path: str | None = None
    kind: str = TEXT
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relationship:
    type: str
    path: str
    many: bool = False


@dataclass(frozen=True)
class Resource:
    type: str
    attributes: dict[str, Attribute]
    relationships: dict[str, Relationship] = field(default_factory=dict)
    id_path: str = "uid"
    default_sort: tuple[str, ...] = ("created_at", "pk")

    def identify(self, obj):
        return str(getattr(obj, "pk" if self.id_path == "pk" else self.id_path))

    def related(self, obj, name):
        relationship = self.relationships[name]
        value = getattr(obj, relationship.path)
        if not relationship.many:
            return value
        # Sorted here rather than by the query, so that a prefetched list is used.
        return sorted(value.all(), key=lambda item: item.pk)

    def field_names(self):
        return {*self.attributes, *self.relationships}


REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.type] = resource
    return resource


def identifier(resource, obj):
    if obj is None:
        return None
    return {"type": resource.type, "id": resource.identify(obj)}


def resource_object(resource, obj, base_url, fields=None):
    """Render ``obj``; ``fields`` (from ``fieldsets``) may narrow what is shown."""
    shown = fields.get(resource.type) if fields else None
    relationships = {}
    for name, relationship in resource.relationships.items():
        if shown is not None and name not in shown:
            continue
        target = REGISTRY[relationship.type]
        value = resource.related(obj, name)
        if relationship.many:
            data = [identifier(target, item) for item in value]
        else:
            data = identifier(target, value)
        relationships[name] = {"data": data}
    return {
        "type": resource.type,
        "id": resource.identify(obj),
        "attributes": {
            name: _json_value(attribute.read(obj))
            for name, attribute in resource.attributes.items()
            if shown is None or name in shown
        },
        "relationships": relationships,
        "links": {"self": f"{base_url}{resource.type}/{resource.identify(obj)}"},
    }


def _json_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


# Reading the query string.


def bracketed(params, family):
    """Return ``{key: value}`` for the parameters ``family[key]=value``."""
    found = {}
    for key, value in params.items():
        match = _BRACKETED.match(key)
        if match and match[1] == family:
            found[match[2]] = value
    return found


def queryset_filter(resource, queryset, params):
    for key, value in bracketed(params, "filter").items():
        name, _, operator = key.partition(".")
        attribute = resource.attributes.get(name)
        if name == "id":
            kind = INTEGER if resource.id_path == "pk" else TEXT
            attribute = Attribute(read=None, path=resource.id_path, kind=kind)
        if attribute is None or attribute.path is None:
            raise ParameterError(f"filter[{key}]", f"{name} cannot be filtered on.")
        queryset = queryset.filter(
            **_condition(attribute, operator, value, f"filter[{key}]")
        )
    return queryset


def _condition(attribute, operator, value, parameter):
    if operator == "none":
        return {f"{attribute.path}__isnull": True}
    if operator and operator not in OPERATORS:
        raise ParameterError(parameter, f"{operator} is not a known operator.")
    if operator:
        return {
            f"{attribute.path}__{OPERATORS[operator]}": _read(
                attribute, value, parameter
            )
        }
    values = [_read(attribute, part, parameter) for part in value.split(",")]
    if len(values) == 1:
        return {attribute.path: values[0]}
    return {f"{attribute.path}__in": values}


def _read(attribute, value, parameter):
    kind = attribute.kind
    try:
        if kind == INTEGER:
            return int(value)
        if kind == DECIMAL:
            number = decimal.Decimal(value)
            if not number.is_finite():
                raise ValueError(value)
            return number
        if kind == BOOLEAN:
            if value not in ("true", "false"):
                raise ValueError(value)
            return value == "true"
        if kind == TIME:
            moment = dateparse.parse_datetime(value)
            if moment is None:
                raise ValueError(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    except (ValueError, decimal.InvalidOperation):
        raise ParameterError(parameter, f"{value} is not a valid {kind}.") from None
    return value


def queryset_sort(resource, queryset, params):
    sort = params.get("sort")
    if not sort:
        return queryset.order_by(*resource.default_sort)

    ordering = []
    for key in sort.split(","):
        name = key.removeprefix("-")
        attribute = resource.attributes.get(name)
        if attribute is None or attribute.path is None:
            raise ParameterError("sort", f"{name} cannot be sorted on.")
        ordering.append(("-" if key.startswith("-") else "") + attribute.path)
    # The primary key last, so that pages never overlap on equal values.
    return queryset.order_by(*ordering, "pk")


def page_numbers(params):
    page = bracketed(params, "page")
    numbers = []
    for name, default in (("number", 1), ("size", DEFAULT_PAGE_SIZE)):
        value = page.get(name, str(default))
        if not is_whole_number(value) or int(value) < 1:
            raise ParameterError(f"page[{name}]", "Use a positive whole number.")
        numbers.append(int(value))
    number, size = numbers
    if size > MAX_PAGE_SIZE:
        raise ParameterError("page[size]", f"A page holds at most {MAX_PAGE_SIZE}.")
    return number, size


def is_whole_number(value):
    """Tell whether ``value`` is a whole number that could be a page or a row id.

    ASCII digits only (``str.isdigit`` alone takes "²", which ``int`` refuses), and
    no more of them than the largest id PostgreSQL holds has (a bigint's 19): a
    longer one can name nothing, and ``int`` refuses thousands.
    """
    return value.isascii() and value.isdigit() and len(value) <= 19


def include_paths(resource, params):
    """Return the requested relationship paths, each checked against ``resource``."""
    include = params.get("include")
    if not include:
        return []

    paths = []
    for path in include.split(","):
        current = resource
        for name in path.split("."):
            if name not in current.relationships:
                raise ParameterError("include", f"{path} cannot be included.")
            current = REGISTRY[current.relationships[name].type]
        paths.append(path.split("."))
    return paths


def fieldsets(params):
    """Return ``{type: names}`` from ``fields[type]=a,b``, each name checked.

    A type without ``fields[…]`` shows everything; ``fields[type]=`` shows only
    the type and id.
    """
    found = {}
    for type_, value in bracketed(params, "fields").items():
        parameter = f"fields[{type_}]"
        resource = REGISTRY.get(type_)
        if resource is None:
            raise ParameterError(
                parameter, f"{type_} is not a resource type.", code="unknown_type"
            )
        names = {name for name in value.split(",") if name}
        unknown = sorted(names - resource.field_names())
        if unknown:
            raise ParameterError(
                parameter,
                f"{type_} has no field {', '.join(unknown)}.",
                code="unknown_field",
            )
        found[type_] = names
    return found


def _lookups(resource, prefix, fields):
    """Return the related rows that showing ``resource`` rows at ``prefix`` reads."""
    shown = fields.get(resource.type)
    lookups = []
    for name, attribute in resource.attributes.items():
        if shown is None or name in shown:
            lookups.extend(prefix + need for need in attribute.needs)
    for name, relationship in resource.relationships.items():
        if shown is None or name in shown:
            lookups.append(prefix + relationship.path)
    return lookups


def related_lookups(resource, paths, fields):
    """Return the prefetch lookups for rows of ``resource`` and their ``paths``."""
    lookups = _lookups(resource, "", fields)
    for path in paths:
        current, prefix = resource, ""
        for name in path:
            relationship = current.relationships[name]
            prefix = f"{prefix}{relationship.path}__"
            current = REGISTRY[relationship.type]
            lookups.append(prefix.removesuffix("__"))
            lookups.extend(_lookups(current, prefix, fields))
    return list(dict.fromkeys(lookups))


def _load_related(resource, objects, paths, fields):
    # Rows a selector already joined (select_related) are not fetched again.
    prefetch_related_objects(objects, *related_lookups(resource, paths, fields))


def included_objects(resource, objects, paths, base_url, fields=None):
    """Return the resource objects that ``paths`` reach from ``objects``, once each."""
    seen = {(resource.type, resource.identify(obj)) for obj in objects}
    included = []
    for path in paths:
        current, layer = resource, list(objects)
        for name in path:
            target = REGISTRY[current.relationships[name].type]
            next_layer = []
            for obj in layer:
                value = current.related(obj, name)
                items = value if isinstance(value, list) else [value]
                next_layer.extend(item for item in items if item is not None)
            for item in next_layer:
                key = (target.type, target.identify(item))
                if key not in seen:
                    seen.add(key)
                    included.append(resource_object(target, item, base_url, fields))
            current, layer = target, next_layer
    return included


def collection_document(resource, queryset, request, base_url):
    """Filter, sort and page ``queryset`` by the request; return the document."""
    params = request.query_params
    paths = include_paths(resource, params)
    fields = fieldsets(params)
    queryset = queryset_filter(resource, queryset, params)
    queryset = queryset_sort(resource, queryset, params)
    number, size = page_numbers(params)

    record_count = queryset.count()
    offset = (number - 1) * size
    # A page past the last is empty; PostgreSQL would refuse a huge offset.
    objects = list(queryset[offset : offset + size]) if offset < record_count else []
    _load_related(resource, objects, paths, fields)
    last = max(1, -(-record_count // size))
    document = {
        "data": [resource_object(resource, obj, base_url, fields) for obj in objects],
        "meta": {"record_count": record_count, "page_count": last},
        "links": _page_links(request, number, size, last),
    }
    if paths:
        document["included"] = included_objects(
            resource, objects, paths, base_url, fields
        )
    return document


def _page_links(request, number, size, last):
    kept = {
        key: value
        for key, value in request.query_params.items()
        if key not in ("page[number]", "page[size]")
    }

    def link(page):
        query = {**kept, "page[number]": page, "page[size]": size}
        return f"{request.path}?{urlencode(query)}"

    links = {"self": link(number), "first": link(1), "last": link(last)}
    if number > 1:
        links["prev"] = link(number - 1)
    if number < last:
        links["next"] = link(number + 1)
    return links


def resource_document(resource, obj, request, base_url):
    paths = include_paths(resource, request.query_params)
    fields = fieldsets(request.query_params)
    _load_related(resource, [obj], paths, fields)
    document = {"data": resource_object(resource, obj, base_url, fields)}
    if paths:
        document["included"] = included_objects(
            resource, [obj], paths, base_url, fields
        )
    return document


def relationship_document(resource, obj, name, base_url):
    """Return the linkage of one relationship, as its own endpoint shows it."""
    relationship = resource.relationships[name]
    target = REGISTRY[relationship.type]
    value = resource.related(obj, name)
    if relationship.many:
        data = [identifier(target, item) for item in value]
    else:
        data = identifier(target, value)
    own = f"{base_url}{resource.type}/{resource.identify(obj)}"
    return {
        "data": data,
        "links": {"self": f"{own}/relationships/{name}", "related": own},
    }


# Reading a request body.


def submitted(request, type_, attribute_names, relationship_names=(), to_many=()):
    """Return the body's attributes and relationship ids, refusing any other.

    A relationship of ``relationship_names`` takes one identifier and gives its
    id; one of ``to_many`` takes a list and gives the list of ids.
    """
    data = request.data.get("data") if isinstance(request.data, dict) else None
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "invalid_document",
            "Invalid document",
            "Send {data: {…}}.",
            field="/data",
        )
    _type_check(data, type_, "/data/type")

    attributes = _members(data, "attributes")
    for name in attributes:
        if name not in attribute_names:
            raise invalid_attribute(
                name,
                f"{name} cannot be set here.",
                status=400,
                code="unknown_attribute",
            )
    relationships = {}
    for name, value in _members(data, "relationships").items():
        pointer = f"/data/relationships/{name}"
        linkage = value.get("data") if isinstance(value, dict) else None
        if name in relationship_names and _is_identifier(linkage):
            relationships[name] = str(linkage["id"])
        elif name in to_many and isinstance(linkage, list):
            relationships[name] = _linkage_ids(linkage, pointer)
        else:
            raise _invalid_relationship(name, pointer)
    return attributes, relationships


def _members(data, name):
    """Return ``data[name]``, an object of attributes or relationships, or ``{}``."""
    members = data.get(name) or {}
    if not isinstance(members, dict):
        raise ApiError(
            400,
            "invalid_document",
            "Invalid document",
            f"Send {name} as an object: {{{name}: {{…}}}}.",
            field=f"/data/{name}",
        )
    return members


def submitted_linkage(request, type_):
    """Return the ids of a to-many relationship's body ``{"data": [{type, id}…]}``."""
    linkage = request.data.get("data") if isinstance(request.data, dict) else None
    if not isinstance(linkage, list):
        raise ApiError(
            400,
            "invalid_document",
            "Invalid document",
            "Send {data: [{type, id}, …]}.",
            field="/data",
        )
    for position, item in enumerate(linkage):
        if isinstance(item, dict):
            _type_check(item, type_, f"/data/{position}/type")
    return _linkage_ids(linkage, "/data")


def _type_check(data, type_, pointer):
    if data.get("type", type_) != type_:
        raise ApiError(
            409,
            "type_mismatch",
            "Type mismatch",
            f"This endpoint takes {type_}.",
            field=pointer,
        )


def _is_identifier(linkage):
    return isinstance(linkage, dict) and linkage.get("id") not in (None, "")


def _linkage_ids(linkage, pointer):
    if not all(_is_identifier(item) for item in linkage):
        raise ApiError(
            400,
            "invalid_relationship",
            "Invalid relationship",
            "Each member of the list is {type, id}.",
            field=pointer,
        )
    return list(dict.fromkeys(str(item["id"]) for item in linkage))


def _invalid_relationship(name, pointer):
    return ApiError(
        400,
        "invalid_relationship",
        "Invalid relationship",
        f"{name} cannot be set here.",
        field=pointer,
    )


def submitted_meta(request, name):
    meta = request.data.get("meta") if isinstance(request.data, dict) else None
    if isinstance(meta, dict) and meta.get(name):
        return str(meta[name])
    return request.query_params.get(f"_metadata[{name}]") or None
