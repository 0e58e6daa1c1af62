#!/usr/bin/env bash
# The whole test suite: PostgreSQL up (TEST_DATABASE_URL), moto installed (MOTO_SERVER), then
# `cargo test --workspace`, so persistence and end-to-end tests run on SQLite and PostgreSQL
# and the storage tests on a local directory and on S3. Ends with one line of totals.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL="$(scripts/postgres-up.sh)"
MOTO_SERVER="$(scripts/moto-up.sh)"
export TEST_DATABASE_URL MOTO_SERVER
mkdir -p target
log=target/test-output.log
status=0
cargo test --workspace --locked "$@" 2>&1 | tee "$log" || status=$?
# Cargo prints one "test result" line per test binary; the last one is often a crate's empty
# doc-test run, so the totals close the output instead.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
