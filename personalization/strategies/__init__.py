"""Strategies: each turns a ``Context`` into ranked products with a reason. See ``base.Strategy``."""

from .base import Context, Recommendation, Strategy

__all__ = ["Context", "Recommendation", "Strategy"]
