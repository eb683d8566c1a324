"""gunicorn's configuration for ``scripts/start.sh`` (and the serving load test, which starts it the same way).

``gunicorn -c config/gunicorn.py config.wsgi``. Each worker holds a database pool of at most
``DATABASE_POOL_MAX_SIZE`` connections (config/settings.py), so the server opens at most
``workers * DATABASE_POOL_MAX_SIZE`` connections, however many requests come in.
"""

import os


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(cores: int) -> int:
    return min(2 * cores + 1, 8)


bind = [f"127.0.0.1:{os.environ.get('PORT') or 8000}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers(available_cores()))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Product pages wait on a similar-items query, and the first of them in a worker loads the image model.
timeout = int(os.environ.get("WEB_TIMEOUT") or 60)
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
