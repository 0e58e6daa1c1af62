#!/usr/bin/env bash
# Installs moto (a local S3-compatible server, from PyPI) into target/tools/moto once, and
# prints the path of its `moto_server`. The S3 storage test starts it on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
version="5.2.5"
venv="target/tools/moto-$version"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "installing moto $version into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version" >&2
fi
echo "$PWD/$venv/bin/moto_server"
