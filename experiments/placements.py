"""The placements an experiment can run on, registered by the apps that render them (``register``, in their
``AppConfig.ready``), so that this app knows none of them."""

from collections.abc import Callable
from dataclasses import dataclass, field

# What a variant may set on a placement, by name: the list's length, and booleans such as a ranking option.
LIMIT = "limit"


@dataclass(frozen=True)
class Placement:
    key: str  # what the interaction log's impressions say (``Event.placement``)
    strategies: Callable[[], list[str]]  # the strategy names a variant may use here
    parameters: dict[str, type] = field(default_factory=dict)  # the parameters a variant may set, and their types


_placements: dict[str, Placement] = {}


def register(placement: Placement) -> None:
    _placements[placement.key] = placement


def get_placement(key: str) -> Placement | None:
    return _placements.get(key)


def placement_keys() -> list[str]:
    return sorted(_placements)
