#!/usr/bin/env bash
# Installs nats-server (the Debian package) when it is missing: the replication tests and the
# replication benchmark start real servers on 127.0.0.1. Needs root or sudo when it installs.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server
command -v nats-server >/dev/null
