"""``python -m config.embedded_db status|start|stop`` for the embedded PostgreSQL server."""

import os
import sys

from django.conf import settings

from .server import ensure_server, stop_server


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    data_dir = settings.EMBEDDED_POSTGRES_DATA
    action = argv[0] if argv else "status"
    if action == "start":
        socket_dir = ensure_server(data_dir, settings.EMBEDDED_POSTGRES_SHARED_BUFFERS)
        print(f"Embedded PostgreSQL running, socket in {socket_dir}")
    elif action == "stop":
        print("Stopped." if stop_server(data_dir) else "Not running.")
    elif action == "status":
        running = (data_dir / "postmaster.pid").exists()
        print(f"Embedded PostgreSQL in {data_dir}: {'running' if running else 'stopped'}")
    else:
        print("usage: python -m config.embedded_db [status|start|stop]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
