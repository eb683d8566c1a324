"""Helpers for tests that start other processes (Celery workers, a web server) on the test database."""

from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    """A ``DATABASE_URL`` for the test database, for another process."""
    params = connection.get_connection_params()
    user = quote(params.get("user") or "postgres")
    password = f":{quote(params['password'])}" if params.get("password") else ""
    host = quote(str(params.get("host") or "localhost"), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{user}{password}@{host}{port}/{params['dbname']}"
