"""Strategies by name. ``PERSONALIZATION_STRATEGIES`` (name -> dotted path of a ``Strategy`` subclass) replaces
built-in ones or adds others, as django-oscar's strategies are swapped; a name set to "" turns one off."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .strategies.base import Strategy

DEFAULT_STRATEGIES: dict[str, str] = {
    "recently_viewed": "personalization.strategies.recently_viewed.RecentlyViewed",
    "trending": "personalization.strategies.trending.Trending",
    "also_viewed": "personalization.strategies.co_occurrence.AlsoViewed",
    "also_bought": "personalization.strategies.co_occurrence.AlsoBought",
    "bought_together": "personalization.strategies.bought_together.BoughtTogether",
    "complete_order": "personalization.strategies.bought_together.CompleteOrder",
    "for_you": "personalization.strategies.learnt.ForYou",
    "for_you_als": "personalization.strategies.learnt.ForYouALS",
    "for_you_bpr": "personalization.strategies.learnt.ForYouBPR",
    "shoppers_like_you": "personalization.strategies.learnt.ShoppersLikeYou",
    "for_you_content": "personalization.strategies.content.ForYouContent",
}


def strategy_paths() -> dict[str, str]:
    paths = DEFAULT_STRATEGIES | getattr(settings, "PERSONALIZATION_STRATEGIES", {})
    return {name: path for name, path in paths.items() if path}


def get_strategy(name: str) -> Strategy | None:
    """The strategy registered as ``name``; None when it is turned off or unknown."""
    path = strategy_paths().get(name)
    if path is None:
        return None
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ImproperlyConfigured(f"PERSONALIZATION_STRATEGIES[{name!r}]: {path} is not a Strategy subclass.")
    return cls(name)
