"""A 503 with ``Retry-After`` while the database cannot be reached (a restart, a failover, no free pooled connection
in time), instead of a 500 with a traceback: the shopper reads that the shop is back in a moment, the API answers in
JSON, and a load balancer or a crawler knows to come back. With DEBUG on, the traceback page stays."""

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_NOTED = "_database_unavailable"
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}"><title>Back in a moment · Lookalike</title></head>
<body>
<h1>Back in a moment</h1>
<p>The shop cannot reach its catalogue just now. This page tries again in {seconds} seconds.</p>
</body>
</html>
"""


def is_database_unavailable(error: BaseException | None) -> bool:
    """Django's ``OperationalError`` (the server went away, refused the connection, or the pool had no connection
    in time) and ``InterfaceError`` (a connection already closed)."""
    return isinstance(error, OperationalError | InterfaceError)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": "The service is unavailable for a moment; try again."}, status=503)
    else:
        response = HttpResponse(PAGE.format(seconds=RETRY_AFTER_SECONDS), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Near the top of ``MIDDLEWARE``: a view's database error becomes a 503 here (``process_exception``), and so
    does the 500 that Django made of one raised by a middleware below (the session's save, say), noted by
    ``got_request_exception``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _NOTED, False) and not settings.DEBUG:
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG or not is_database_unavailable(exception):
            return None
        logger.warning("503 for %s %s: the database is unavailable (%s)", request.method, request.path, exception)
        return unavailable_response(request)


def _note_database_error(sender, request: HttpRequest | None = None, **kwargs) -> None:
    # Sent while Django handles the exception, so sys.exc_info() still holds it.
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _NOTED, True)


got_request_exception.connect(_note_database_error, dispatch_uid="config.database_unavailable")
