#!/usr/bin/env bash
# Serve the storefront as in production: static files collected (served by whitenoise), then gunicorn with
# config/gunicorn.py (workers, threads, 127.0.0.1:$PORT). scripts/start.sh runs it once everything is set up; the
# serving load test (tests/project/test_serving_load.py) runs it too. Expects DEBUG off and SECRET_KEY set.
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/python manage.py collectstatic --no-input --verbosity 0
exec .venv/bin/gunicorn --config config/gunicorn.py config.wsgi
