#!/usr/bin/env bash
# The whole test suite: PostgreSQL up (TEST_DATABASE_URL), moto installed (MOTO_SERVER), then
# `cargo test --workspace`, so persistence and end-to-end tests run on SQLite and PostgreSQL
# and the storage tests on a local directory and on S3.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL="$(scripts/postgres-up.sh)"
MOTO_SERVER="$(scripts/moto-up.sh)"
export TEST_DATABASE_URL MOTO_SERVER
exec cargo test --workspace --locked "$@"
