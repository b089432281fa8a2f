#!/usr/bin/env bash
# Run every check and test: ruff, mypy, the whole suite on SQLite, and the data layer again on PostgreSQL
# when GATEHOUSE_TEST_POSTGRES_URL is set (CI sets it). Installs what it needs, Debian's chromium included.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv dev

if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "Could not install chromium: the browser tests will say so."
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .

.venv/bin/pytest "$@"
if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then
  echo "Data-layer tests again on PostgreSQL ($GATEHOUSE_TEST_POSTGRES_URL):"
  GATEHOUSE_TEST_DATABASE=postgres .venv/bin/pytest -m data "$@"
fi
