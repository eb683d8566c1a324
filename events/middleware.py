"""A first-party visitor id for every browser: what the interaction log ties an anonymous shopper's events to."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "lookalike_visitor"


class VisitorMiddleware:
    """Sets ``request.visitor_id`` (a ``uuid.UUID``) from the cookie, or a new one that the response sets."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        known = _parse(request.COOKIES.get(COOKIE_NAME))
        request.visitor_id = known or uuid.uuid4()
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
