#!/usr/bin/env bash
# The build steps of deploy/Dockerfile, one subcommand per RUN, so that CI
# (scripts/image-build-check.sh, no Docker daemon) runs exactly the commands the image build runs.
# Runs in the directory to build (the Dockerfile's WORKDIR); needs no git. Honours
# CARGO_TARGET_DIR (default: ./target).
#
#   chef-install [ROOT]  install the pinned cargo-chef (into ROOT/bin, or cargo's own bin dir);
#                        does nothing when ROOT/bin/cargo-chef already is that version
#   chef-version         print the pinned cargo-chef version
#   prepare              full source tree -> recipe.json (manifests, Cargo.lock, every target)
#   cook                 recipe.json alone -> the dependencies built, as `build` will need them
#   build OUT            full source tree -> the release binary, copied to OUT
set -euo pipefail

CHEF_VERSION=0.1.78
BIN=avatar-studio
# cook and build must resolve the same packages, features and profile, or the cooked layer is
# not reused: they share these flags.
CARGO_FLAGS=(--release --locked --bin "$BIN")

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  chef-version)
    echo "$CHEF_VERSION"
    ;;
  chef-install)
    root="${1:-}"
    if [ -n "$root" ] && [ -x "$root/bin/cargo-chef" ] \
       && [ "$("$root/bin/cargo-chef" --version)" = "cargo-chef $CHEF_VERSION" ]; then
      exit 0
    fi
    cargo install cargo-chef --version "$CHEF_VERSION" --locked ${root:+--root "$root"}
    ;;
  prepare)
    cargo chef prepare --recipe-path recipe.json
    ;;
  cook)
    cargo chef cook --recipe-path recipe.json "${CARGO_FLAGS[@]}"
    ;;
  build)
    [ $# -eq 1 ] || usage
    cargo build "${CARGO_FLAGS[@]}"
    cp "${CARGO_TARGET_DIR:-target}/release/$BIN" "$1"
    ;;
  *)
    usage
    ;;
esac
