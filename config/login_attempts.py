"""How django-axes tells failed logins apart (the admin's and the shoppers'), and what a locked-out client sees.

The settings name these functions (``AXES_*_CALLABLE``); see "Failed logins" in config/settings.py.
"""

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str | None:
    """The client's address as the API's throttles read it: from X-Forwarded-For behind ``API_NUM_PROXIES``
    proxies, else the connection's (a client cannot pick its address by sending the header itself)."""
    return BaseThrottle().get_ident(request)


def login_name(request: HttpRequest, credentials: dict | None) -> str:
    """The account that a login names: the admin's username or a shopper's e-mail address (allauth's credentials).

    Lower-cased, because allauth finds an address whatever its case: "Asha@…" must count against "asha@…"."""
    credentials = credentials or {}
    return str(credentials.get("username") or credentials.get("email") or "").strip().lower()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with a page that says how long to wait, for the admin's login form and the shoppers' alike."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": math.ceil(seconds / 60)}
    response = render(request, "axes/lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
