#!/usr/bin/env bash
# Installs a pinned Python tool from PyPI into its own venv under target/tools once, and prints
# the venv's bin directory. Usage: scripts/python-tool.sh NAME VERSION [PIP-SPEC]
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1" version="$2" spec="${3:-$1==$2}"
venv="target/tools/$name-$version"
if [ ! -f "$venv/.installed" ]; then
  echo "installing $spec into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec" >&2
  touch "$venv/.installed"
fi
echo "$PWD/$venv/bin"
