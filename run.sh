#!/usr/bin/env bash
# Start Gatehouse on the embedded default: SQLite file, built-in mail sink (/dev/mailbox), first admin link printed.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv ""
exec .venv/bin/python main.py
