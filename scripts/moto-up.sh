#!/usr/bin/env bash
# Prints the path of `moto_server` (a local S3-compatible server from PyPI), installing it once.
# The S3 storage test starts it on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "$(scripts/python-tool.sh moto 5.2.5 'moto[server]==5.2.5')/moto_server"
