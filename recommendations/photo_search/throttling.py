"""Searches by photo per client: the page counts against the API's throttle (DRF's scope "photo-search", at
``API_PHOTO_SEARCH_RATE``), so that a client has one budget however it searches."""

import math
from types import SimpleNamespace

from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

SCOPE = "photo-search"
# What ScopedRateThrottle reads the scope from: the API's view, here a stand-in for it.
_SCOPED_VIEW = SimpleNamespace(throttle_scope=SCOPE)


class _ClientAddressThrottle(ScopedRateThrottle):
    """Counted by address even for a logged-in shopper, as the API (which takes no session) counts everyone."""

    def get_cache_key(self, request: HttpRequest, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def seconds_to_wait(request: HttpRequest) -> int:
    """Seconds before this client may search by photo again, 0 if it may now (and the search is counted)."""
    throttle = _ClientAddressThrottle()
    if throttle.allow_request(request, _SCOPED_VIEW):
        return 0
    return max(1, math.ceil(throttle.wait() or 0))
