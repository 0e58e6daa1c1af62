#!/usr/bin/env bash
# The whole test suite: PostgreSQL up, then `cargo test --workspace` with TEST_DATABASE_URL set,
# so every persistence and end-to-end test runs on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL="$(scripts/postgres-up.sh)"
export TEST_DATABASE_URL
exec cargo test --workspace --locked "$@"
