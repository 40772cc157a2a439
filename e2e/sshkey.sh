#!/usr/bin/env bash
# The lab's ssh key (root on the VMs, via vendor-data): $WORK/ssh/id_ed25519
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/ssh"
[ -f "$WORK/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C lbe-lab -f "$WORK/ssh/id_ed25519"
echo "$WORK/ssh/id_ed25519"
