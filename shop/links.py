"""URLs for pages that link to hundreds of others, and for the links on every page (``{% plain_url %}``):
``reverse()`` costs tens of microseconds a call, these one."""

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

# Stands in for the primary key in a reversed URL: no route, prefix or host contains these digits.
_PK_PLACEHOLDER = 918273645546372819


def plain_url(viewname: str) -> str:
    """``reverse(viewname)`` for a view without arguments."""
    return _reversed(viewname, (), get_script_prefix(), get_urlconf())


def pk_url(viewname: str, pk: int) -> str:
    """``reverse(viewname, args=[pk])`` for a view that takes one integer, such as a product's page."""
    pattern = _reversed(viewname, (_PK_PLACEHOLDER,), get_script_prefix(), get_urlconf())
    return pattern.replace(str(_PK_PLACEHOLDER), str(int(pk)))


@lru_cache(maxsize=64)
def _reversed(viewname: str, args: tuple[int, ...], script_prefix: str, urlconf: str | None) -> str:
    # Reversed with the prefix and URLconf in force, which the cache key therefore holds.
    return reverse(viewname, args=args, urlconf=urlconf)
