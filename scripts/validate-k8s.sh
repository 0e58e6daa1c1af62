#!/usr/bin/env bash
# Validates every Kubernetes manifest in deploy/k8s against the Kubernetes schemas, strictly
# (unknown fields fail), with a pinned kubernetes-validate from PyPI installed into target/tools.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/python-tool.sh kubernetes-validate 1.31.0)"
manifests=$(ls deploy/k8s/*.yaml | grep -v kustomization.yaml)
"$bin/kubernetes-validate" --kubernetes-version 1.31.0 --strict $manifests
# Every resource kustomization.yaml lists must exist.
for f in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/k8s/kustomization.yaml); do
  [ -f "deploy/k8s/$f" ] || { echo "kustomization.yaml lists missing $f" >&2; exit 1; }
done
