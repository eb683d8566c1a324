#!/usr/bin/env bash
# Set up and run the storefront on the embedded defaults.
# Usage: scripts/start.sh [PATH to Kaggle's fashion-product-images-small folder]
# The catalogue is imported from PATH when the database has no products yet, and the storefront serves as soon as
# it is. Meanwhile the products' photos are analysed (embedded) in the background, with a progress bar here and in
# the admin: by a Celery worker started here when CELERY_BROKER_URL is set, else by a background process. Similar
# items and search by photo say how far that is until it is done.
# It serves as in production (scripts/serve.sh): DEBUG off, static files collected and served by whitenoise, gunicorn
# with config/gunicorn.py. For development with reloading and tracebacks, see `runserver` in docs/development.md.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh requirements.txt
manage=(.venv/bin/python manage.py)

export DEBUG=${DEBUG:-false}
if [ -z "${SECRET_KEY:-}" ]; then
  # A key of this machine's own, kept across runs so that sessions survive a restart (var/ is git-ignored).
  if [ ! -s var/secret_key ]; then
    mkdir -p var
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key)
  fi
  SECRET_KEY=$(cat var/secret_key)
  export SECRET_KEY
fi

"${manage[@]}" migrate --no-input
if [ $# -ge 1 ]; then
  "${manage[@]}" import_catalog "$1" --if-empty
fi

background=()
trap 'kill "${background[@]}" 2>/dev/null || true' EXIT
if [ -n "${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A config worker --loglevel warning --concurrency 1 &
  background+=($!)
  "${manage[@]}" rebuild_embeddings --missing --async &
else
  "${manage[@]}" rebuild_embeddings --missing &
fi
background+=($!)

echo "Storefront: http://127.0.0.1:${PORT:-8000}/   admin: http://127.0.0.1:${PORT:-8000}/admin/"
scripts/serve.sh
