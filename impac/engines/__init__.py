"""The registry of Impac! engines: one callable per widget endpoint.

An engine is called with keyword arguments only: ``organizations`` (a list, in the
order the caller named them, already checked for access) and ``hist_parameters``
(an ``impac.periods.HistParameters``). It returns the widget's ``content``.
Engine modules register themselves when imported; ``engines_load`` imports them
all and runs when Django starts.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass

ENGINE_MODULES = ("impac.engines.invoices",)


@dataclass(frozen=True)
class Engine:
    endpoint: str
    name: str
    description: str
    compute: Callable[..., dict]

    def as_json(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "name": self.name,
            "description": self.description,
        }


_engines: dict[str, Engine] = {}


def register(endpoint: str, *, name: str, description: str):
    """Register the decorated function as the engine of ``endpoint``."""

    def decorator(compute):
        if endpoint in _engines:
            raise ValueError(f"Two engines claim the widget {endpoint!r}.")
        _engines[endpoint] = Engine(endpoint, name, description, compute)
        return compute

    return decorator


def engine_get(endpoint: str) -> Engine | None:
    return _engines.get(endpoint)


def engines_all() -> list[Engine]:
    return sorted(_engines.values(), key=lambda engine: engine.endpoint)


def engines_load() -> None:
    for module in ENGINE_MODULES:
        importlib.import_module(module)
