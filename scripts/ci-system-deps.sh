#!/usr/bin/env bash
# Installs the Debian packages some integration tests drive: nginx (forward-auth test) and chromium
# (browser login test). Idempotent; skips what is already present.
set -euo pipefail
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
