#!/usr/bin/env bash
# Re-resolve uv.lock from pyproject.toml and export the two hashed files run.sh and test.sh install from.
#   scripts/lock.sh            after editing pyproject.toml's dependencies: every other version stays
#   scripts/lock.sh --upgrade  every package to the newest version pyproject.toml allows
#   scripts/lock.sh --check    fail when uv.lock or the exports no longer match pyproject.toml (test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv dev
uv=.venv/bin/uv
export_lock() {  # $1: requirements file, then uv export options
  local out="$1"
  shift
  "$uv" export --quiet --frozen --no-emit-project --format requirements-txt "$@" -o "$out"
}
if [ "${1:-}" = "--check" ]; then
  "$uv" lock --quiet --check --offline
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  export_lock "$scratch/requirements.txt"
  export_lock "$scratch/requirements-dev.txt" --extra dev
  for file in requirements.txt requirements-dev.txt; do
    # the first lines name the command that wrote the file, which differs here only by the output path
    if ! diff -q <(tail -n +3 "$file") <(tail -n +3 "$scratch/$file") >/dev/null; then
      echo "$file is not what uv.lock exports: run scripts/lock.sh" >&2
      exit 1
    fi
  done
  exit 0
fi
"$uv" lock "$@"
export_lock requirements.txt
export_lock requirements-dev.txt --extra dev
echo "uv.lock, requirements.txt and requirements-dev.txt updated; ./test.sh installs them on its next run."
