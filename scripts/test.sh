#!/usr/bin/env bash
# Bring up everything the test suite needs on a fresh Debian machine, then run it.
#   - Python packages: a virtual environment with slidewatch[dev]
#   - headless Chromium (browser tests of the web map and the labeling page)
#   - a local PostgreSQL server (the registry tests run on SQLite and on PostgreSQL)
# Without root or apt-get the system parts are skipped; the tests that need them then skip
# with a reason (never under CI=true, where they fail instead).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -d /usr/lib/postgresql ] || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  fi
fi

if [ -z "${SLIDEWATCH_TEST_DB_URL:-}" ] && [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  pg_ctlcluster "$ver" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'slidewatch'\"" >/dev/null
  su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='slidewatch_test'\"" | grep -q 1 \
    || su postgres -c "createdb slidewatch_test"
  export SLIDEWATCH_TEST_DB_URL="postgresql+psycopg://postgres:slidewatch@127.0.0.1:5432/slidewatch_test"
fi

python3 -m venv .venv
.venv/bin/pip install -q -e ".[dev]"
exec .venv/bin/python -m pytest -q "$@"
