#!/usr/bin/env bash
# Runs the property tests of what takes untrusted input (update parsing and intent routing, the
# callback codec, locale filling, photo inspection and decode costs, FAL webhook verification)
# with many cases, each target for a bounded time. The test suite runs the same properties with
# proptest's default 256 cases. A failure prints its minimal input: add it as a case to the test.
#
#   scripts/fuzz.sh            # 20,000 cases per property, at most 300 s per target
#   CASES=200000 SECONDS_PER_TARGET=900 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${CASES:-20000}"
limit="${SECONDS_PER_TARGET:-300}"
status=0
run() {
    echo "== $*"
    timeout "$limit" cargo test --release --locked "$@" || {
        code=$?
        # 124: the time bound ran out, which is not a failure; anything else is.
        if [ "$code" -ne 124 ]; then status=$code; fi
    }
}
run -p studio-bot-ui --test properties
run -p studio-domain --test properties
run -p studio-providers --lib fal::webhook::tests
run -p studio-server --lib imaging::tests::any_bytes
exit "$status"
