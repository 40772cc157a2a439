#!/usr/bin/env bash
# Debian packages `npm test` needs (the real validators and the network-namespace lab), installed
# so that no service starts. Run as root on Debian 12; idempotent. The README's test command and
# .ci/run both call this. One package per line, with why, so additions merge cleanly.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Never let a package install start haproxy/keepalived (or anything) in the root namespace.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi
PKGS=(
  haproxy             # haproxy -c and the live lab
  keepalived          # keepalived -t and the live lab
  cloud-init          # cloud-init schema
  shellcheck          # generated shell scripts
  packer              # packer validate
  iproute2            # ip netns, veth, bridge
  procps              # pgrep (the keepalived check)
  curl                # the keepalived readiness check (keepalived -t and the live lab)
  util-linux          # unshare, nsenter
  systemd             # systemd-analyze verify of generated units
  python3             # boot agent, lab stand-ins
  pyflakes3           # boot agent lint
  openssl             # lab TLS certificates
  dnsmasq-base        # the live suite's DNS server for DNS backends (-base: the binary, no service)
  awscli              # the real EC2 client (v2) that drives the cloud lab's emulated EC2 API
  debootstrap         # the version matrix: Debian 11, 13 and sid chroots with their haproxy, keepalived, cloud-init
  nftables            # nft -c of the generated VRRP firewall table, and that table in the live lab
  iptables            # the bench's link impairment (NFQUEUE: this kernel has no netem)
  prometheus          # the live suite's Prometheus server, scraping both LB nodes' metrics (its service is not started)
  ca-certificates
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "test deps ok: ${PKGS[*]}"
