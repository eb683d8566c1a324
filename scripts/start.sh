#!/usr/bin/env bash
# Set up and run the storefront on the embedded defaults.
# Usage: scripts/start.sh [PATH to Kaggle's fashion-product-images-small folder]
# The catalogue is imported from PATH when the database has no products yet, and the products
# missing image embeddings are embedded (with a progress bar) before the server starts.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh requirements.txt
manage=(.venv/bin/python manage.py)

"${manage[@]}" migrate --no-input
if [ $# -ge 1 ]; then
  "${manage[@]}" import_catalog "$1" --if-empty
fi
"${manage[@]}" rebuild_embeddings --missing

echo "Storefront: http://127.0.0.1:${PORT:-8000}/   admin: http://127.0.0.1:${PORT:-8000}/admin/"
exec "${manage[@]}" runserver "127.0.0.1:${PORT:-8000}"
