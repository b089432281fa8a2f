# Shared by run.sh and test.sh: .venv holds exactly the locked versions, re-made whenever the lock changes.
# requirements.txt (what run.sh needs) and requirements-dev.txt (that plus the test tools) are both exported
# from uv.lock by scripts/lock.sh, so the two sets never disagree on a version.
ensure_venv() {
  local extras="$1"
  local lock="requirements${extras:+-$extras}.txt"
  local python="${PYTHON:-python3}"
  local stamp=".venv/.locked"
  local want
  want="$(_lock_digest "$lock")"
  if [ -x .venv/bin/python ] && [ -f "$stamp" ]; then
    local have
    have="$(cat "$stamp")"
    # The dev set holds the runtime set at the same versions: run.sh may use a venv test.sh made.
    if [ "$have" = "$want" ] || { [ -z "$extras" ] && [ "$have" = "$(_lock_digest requirements-dev.txt)" ]; }; then
      return
    fi
  fi
  echo "Installing the locked dependencies ($lock) into .venv..."
  rm -rf .venv  # from scratch: a package the lock dropped must not linger
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r "$lock"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$want" >"$stamp"
}

_lock_digest() {
  sha256sum "$1" | cut -d' ' -f1
}
