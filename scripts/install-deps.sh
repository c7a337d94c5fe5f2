#!/usr/bin/env bash
# Installs the Debian packages Faultline's local clusters, faults, real
# databases and browser tests use. Needs root. Safe to run again.
set -euo pipefail
pkgs=(iproute2 nftables iptables procps util-linux etcd-server etcd-client chromium openssh-server openssh-client faketime debootstrap)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts etcd as a service on install; tests run their own members.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd || true
  systemctl disable etcd >/dev/null 2>&1 || true
fi
