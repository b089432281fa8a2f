#!/usr/bin/env bash
# Run every check and test: ruff, mypy, the whole suite on SQLite, and the data layer again on PostgreSQL
# when GATEHOUSE_TEST_POSTGRES_URL is set (CI sets it). Installs what it needs, Debian's headless Chromium included.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv dev

if ! command -v chromium-headless-shell >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium-headless-shell for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null) \
    || echo "Could not install chromium-headless-shell: the browser tests will say so."
fi

# Python's bytecode caches (__pycache__, gitignored), even where the environment turns them off: a run starts about
# 30 Python processes (test workers, app servers), and each would compile the project and the tests again.
unset PYTHONDONTWRITEBYTECODE

scripts/lock.sh --check
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .

# pytest exits 5 when the arguments select none of a pass's tests (./test.sh -k settings): not a failure.
run_pytest() {
  local status=0
  .venv/bin/pytest --durations=15 "$@" || status=$?
  [ "$status" = 0 ] || [ "$status" = 5 ] || exit "$status"
}
# One run on SQLite, three workers, a file at a time per worker (a browser file's tests share one app and one
# Chromium). The browser files go first, in their own order (not xdist's largest-first): they are the longest and
# spend half their time waiting on a browser, which the quick tests fill.
run_pytest -n 3 --dist loadfile --no-loadscope-reorder "$@"
if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then
  echo "Data-layer tests again on PostgreSQL ($GATEHOUSE_TEST_POSTGRES_URL):"
  # three workers, each emptying and filling a database of its own beside the URL's (test_gw0, ...: tests/conftest.py)
  GATEHOUSE_TEST_DATABASE=postgres run_pytest -m data -n 3 "$@"
fi
