#!/usr/bin/env bash
# Host packages the end-to-end VM lab needs (Debian 12). Run as root; idempotent.
# CI calls this before `npm run e2e`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Never let a package install start haproxy/keepalived in the root namespace.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi
PKGS=(
  qemu-system-x86 qemu-utils      # VMs (TCG; KVM only where it really boots a stock kernel)
  debootstrap                     # base image (Debian 12 minbase + cloud-init)
  e2fsprogs                       # mke2fs -d: filesystem image without loop devices
  cloud-image-utils               # cloud-localds: NoCloud seed
  xorriso genisoimage             # Packer cd_files (seed CD)
  apt-utils                       # apt-ftparchive: local flat repo
  packer                          # image bake (1.6.6 on bookworm)
  iproute2 socat python3 openssh-client openssl procps ca-certificates
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "e2e host deps ok: ${PKGS[*]}"
