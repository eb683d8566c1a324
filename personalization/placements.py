"""Where the personal lists are shown (what the log's impressions say), and which of them A/B tests can run on:
registered with the experiments app, with the strategies that can fill each."""

from functools import partial

from experiments.placements import LIMIT, Placement, register

from .registry import get_strategy, strategy_paths

FOR_YOU = "home: For you"
TRENDING = "home: Trending"
ALSO_BOUGHT = "product page: also bought"
BOUGHT_TOGETHER = "product page: complete the look"
COMPLETE_ORDER = "bag: complete your order"
RECENTLY_VIEWED = ("home: recently viewed", "product page: recently viewed")

# What each placement gives a strategy to recommend from (``Strategy.needs``).
PROVIDES = {
    FOR_YOU: {"visitor"},
    TRENDING: {"visitor"},
    ALSO_BOUGHT: {"visitor", "product"},
    BOUGHT_TOGETHER: {"visitor", "product"},
    COMPLETE_ORDER: {"visitor", "cart"},
}
# What a variant may set: how many products its list shows.
PARAMETERS = {LIMIT: int}


def strategies_for(provided: set[str]) -> list[str]:
    return [name for name in strategy_paths() if set(get_strategy(name).needs) <= provided]


def register_placements() -> None:
    for key, provided in PROVIDES.items():
        register(Placement(key, partial(strategies_for, provided), PARAMETERS))
