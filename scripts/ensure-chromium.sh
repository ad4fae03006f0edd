#!/bin/sh
# Makes sure Debian's Chromium is installed for the browser test (test/browser/).
# Exits 0 at once if /usr/bin/chromium exists; otherwise, as root, installs the
# distribution package quietly. playwright-core never downloads a browser here.
set -eu
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing; run as root or: sudo apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x "$CHROMIUM"
