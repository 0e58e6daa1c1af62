#!/usr/bin/env bash
# Ingress benchmark on a release build, SQLite and PostgreSQL. Tune with BENCH_UPDATES and
# BENCH_BACKENDS (see crates/server/benches/ingress.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL="$(scripts/postgres-up.sh)"
export TEST_DATABASE_URL
exec cargo bench --locked -p studio-server --bench ingress
