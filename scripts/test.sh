#!/usr/bin/env bash
# Install everything the tests need and run them (lint first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh requirements-dev.txt

# The Celery worker tests need Redis on 127.0.0.1:6379 (TEST_REDIS_URL); start it when it is down.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  else
    echo "Redis is not running on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server)." >&2
  fi
fi
# The browser tests drive Debian's chromium through Playwright.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing chromium for the browser tests"
    apt-get install -y -qq chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
  else
    echo "chromium is not installed: the browser tests will fail (sudo apt-get install chromium)." >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # the import contracts in pyproject.toml
exec .venv/bin/pytest "$@"
