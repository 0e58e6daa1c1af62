#!/usr/bin/env bash
# Fails when a crate of the workspace declares a dependency its code does not use
# (cargo-machete, pinned, installed from crates.io into target/tools once).
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.9.1
tools="target/tools/cargo-machete-$version"
if [ ! -x "$tools/bin/cargo-machete" ]; then
  echo "installing cargo-machete $version into $tools" >&2
  cargo install cargo-machete --version "$version" --locked --root "$tools" --quiet
fi
"$tools/bin/cargo-machete"
