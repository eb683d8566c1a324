"""While the database cannot be reached, pages answer a 503 with Retry-After, not a 500 with a traceback
(config/database_unavailable.py). tests/project/test_faults.py meets it for real, with PostgreSQL restarted under
page traffic."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path


def database_down(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def connection_closed(request: HttpRequest) -> HttpResponse:
    raise InterfaceError("connection already closed")


def bug(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug")


def fine(request: HttpRequest) -> HttpResponse:
    return HttpResponse("fine")


urlpatterns = [
    path("page/", database_down),
    path("closed/", connection_closed),
    path("api/products/", database_down),
    path("bug/", bug),
    path("fine/", fine),
]


class SavesToTheDatabase:
    """A middleware below ours whose work after the view fails, as the session's save does while the database is
    down: Django turns its error into a 500 before ours sees the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.get_response(request)
        raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def client() -> Client:
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        yield Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/page/", "/closed/"])
def test_a_page_whose_database_is_unreachable_answers_503(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "Back in a moment" in response.content.decode()


def test_the_api_answers_503_in_json(client: Client) -> None:
    response = client.get("/api/products/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The service is unavailable for a moment; try again."}


def test_a_middleware_whose_database_is_unreachable_answers_503(client: Client) -> None:
    ours = settings.MIDDLEWARE.index("config.database_unavailable.DatabaseUnavailableMiddleware")
    below = [*settings.MIDDLEWARE[: ours + 1], f"{__name__}.SavesToTheDatabase", *settings.MIDDLEWARE[ours + 1 :]]
    with override_settings(MIDDLEWARE=below):
        response = client.get("/fine/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_other_errors_stay_500s(client: Client) -> None:
    assert client.get("/bug/").status_code == 500
    assert client.get("/fine/").status_code == 200


def test_with_debug_on_the_traceback_stays(client: Client) -> None:
    with override_settings(DEBUG=True):
        response = client.get("/page/")

    assert response.status_code == 500
    assert "OperationalError" in response.content.decode()
