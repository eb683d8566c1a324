"""A first-party visitor id for every browser: what the interaction log ties an anonymous shopper's events to."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "lookalike_visitor"
# Sent by the shopper simulator's HTTP driver (personalization/simulation/http_driver.py): what the request does is
# logged, and ordered, as synthetic (docs/simulation.md).
SYNTHETIC_HEADER = "X-Lookalike-Synthetic"


class VisitorMiddleware:
    """Sets ``request.visitor_id`` (a ``uuid.UUID``) from the cookie, or a new one that the response sets, and
    ``request.synthetic``: whether the simulator sent the request (``X-Lookalike-Synthetic: 1``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        known = _parse(request.COOKIES.get(COOKIE_NAME))
        request.visitor_id = known or uuid.uuid4()
        # Only where the operator says so: a shopper who sent it would have their orders removed with the simulation.
        request.synthetic = settings.EVENTS_ACCEPT_SYNTHETIC_HEADER and request.headers.get(SYNTHETIC_HEADER) == "1"
        response = self.get_response(request)
        if known is None:
            response.set_cookie(
                COOKIE_NAME,
                request.visitor_id.hex,
                max_age=settings.EVENTS_VISITOR_COOKIE_AGE,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response


def _parse(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=value) if value else None
    except ValueError:  # a cookie someone made up: a new visitor
        return None
