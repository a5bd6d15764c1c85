#!/bin/sh
# What the test suite needs beyond Python packages: the Mosquitto broker. The
# bridge's real-broker tests start their own mosquitto on a loopback port with
# a temporary configuration; this installs the Debian / Raspberry Pi OS package
# when it is missing (with sudo unless run as root). Nothing else is changed.
set -eu
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
else
    as_root="sudo"
fi
echo "test set-up: installing mosquitto (apt-get) for the bridge's real-broker tests" >&2
$as_root apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
