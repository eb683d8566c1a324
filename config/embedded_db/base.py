"""A PostgreSQL backend that starts the embedded server on first connection.

Used when no ``DATABASE_URL`` is set, so that a fresh clone needs no database
install. Everything else is Django's own PostgreSQL backend.
"""

from pathlib import Path
from typing import Any

from django.db.backends.postgresql import base

from .server import ensure_database, ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        data_dir = Path(self.settings_dict["DATA_DIR"])
        params = super().get_connection_params()
        params["host"] = ensure_server(data_dir, self.settings_dict.get("SHARED_BUFFERS", ""))
        if params.get("dbname", "postgres") != "postgres":
            ensure_database(params["host"], params["dbname"])
        return params
