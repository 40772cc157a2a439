#!/usr/bin/env bash
# NoCloud seed for one lab VM.
#   seed.sh NAME IP USER_DATA [NODE]   -> $RUN/NAME-seed/ and $RUN/NAME-seed.iso (label cidata)
# meta-data: instance-id, local-hostname and (if NODE is given) "$LBE_META_KEY: NODE", the key
# lb.yaml's identity.metadataKey names. network-config v2: static IP/24 on $LBE_NIC (ens5, see vm.sh), no route.
# vendor-data: the lab's apt source (the local repo) and root's ssh key for verification, so
# USER_DATA stays exactly what lbbake generated (user-data wins over vendor-data on conflicts).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
[ $# -ge 3 ] || { echo "usage: $0 NAME IP USER_DATA [NODE]" >&2; exit 2; }
NAME=$1 IP=$2 UD=$3 NODE=${4:-}
KEY=${LBE_META_KEY:-lb-node}
D=$RUN/$NAME-seed
rm -rf "$D" && mkdir -p "$D"
bash "$E2E_DIR/sshkey.sh" >/dev/null
cp "$UD" "$D/user-data"
{
  echo "instance-id: lbe-$NAME-$(date +%s%N)"
  echo "local-hostname: ${NODE:-$NAME}"
  if [ -n "$NODE" ]; then echo "$KEY: $NODE"; fi
} >"$D/meta-data"
cat >"$D/network-config" <<NET
version: 2
ethernets:
  ${LBE_NIC:-ens5}:
    addresses: [$IP/24]
NET
cat >"$D/vendor-data" <<VD
#cloud-config
apt:
  preserve_sources_list: false
  sources_list: |
    deb [trusted=yes] $REPO_URL ./
disable_root: false
ssh_authorized_keys:
  - $(cat "$WORK/ssh/id_ed25519.pub")
VD
cloud-localds -N "$D/network-config" -V "$D/vendor-data" "$RUN/$NAME-seed.iso" "$D/user-data" "$D/meta-data"
echo "$RUN/$NAME-seed.iso"
