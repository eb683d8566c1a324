"""What the API's views share: the registered strategies and what each needs, and a list chosen, logged as shown."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.http import HttpRequest

from shop.models import Product

from ..registry import get_strategy, strategy_paths
from ..selectors import RecommendedList, recommend
from ..services import list_shown
from ..strategies.base import Context, Recommendation

PRODUCT = "product"


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    label: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """A recommendation in the shape the similar-items serializer reads."""

    product: Product
    score: float
    reason: str
    similarity: float | None = None
    duplicates: list[int] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [self.reason]


@dataclass(frozen=True)
class ShownList:
    list_id: str
    strategy: str
    placement: str
    results: list[Item]


class UnknownStrategy(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"No recommendation strategy is registered as “{name}”: GET /api/recommendations/ lists those that are."
        )


def strategy_info(name: str) -> StrategyInfo:
    strategy = get_strategy(name)
    if strategy is None:
        raise UnknownStrategy(name)
    return StrategyInfo(name, strategy.strategy_label(Context()), strategy.needs)


def registered() -> list[StrategyInfo]:
    return [strategy_info(name) for name in strategy_paths()]


def chosen(names: Sequence[str], context: Context, *, overall_fallback: bool = False) -> RecommendedList:
    """The first of ``names`` with something to show; with ``overall_fallback``, then trending across genders (as
    the home page does for a segment with nothing trending yet). Raises ``UnknownStrategy`` when none is registered."""
    if all(get_strategy(name) is None for name in names):
        raise UnknownStrategy(names[0])
    shown = recommend(list(names), context)
    if not shown and overall_fallback and context.gender:
        shown = recommend(["trending"], replace(context, gender=None))
    return shown


def logged(request: HttpRequest, shown: RecommendedList, name: str) -> ShownList:
    """The list as the API answers it, with a fresh id; logged as an impression (as the shelves are) when it
    has products."""
    placement = f"api: {name}"
    list_id = list_shown(request, shown, placement)
    return ShownList(list_id, shown.strategy, placement, [_item(found) for found in shown.recommendations])


def _item(found: Recommendation) -> Item:
    return Item(found.product, found.score, found.reason)
