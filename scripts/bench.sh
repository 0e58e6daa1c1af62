#!/usr/bin/env bash
# Benchmarks on a release build: `scripts/bench.sh` (ingress, SQLite and PostgreSQL; tune with
# BENCH_UPDATES and BENCH_BACKENDS), `scripts/bench.sh generation` (1,000 images against
# Telegram's limits; tune with BENCH_PEOPLE and BENCH_IMAGES_EACH) or `scripts/bench.sh
# references` (12 MP reference photos at once against the pod's memory; BENCH_PEOPLE) or
# `scripts/bench.sh pre_checkout` (payments answered behind 1,000 paced messages; BENCH_QUEUED). See
# crates/server/benches.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_DATABASE_URL="$(scripts/postgres-up.sh)"
export TEST_DATABASE_URL
exec cargo bench --locked -p studio-server --bench "${1:-ingress}"
