#!/usr/bin/env bash
# Builds the local apt repository the VMs install from: keepalived, haproxy, curl (the readiness
# check) and everything they pull in (Recommends included, as cloud-init's `packages:` does) that the base image
# lacks, as a flat repo (Packages + Release). Cached, keyed by this script + build-base.sh.
#   $WORK/repo-<hash>/  (served as http://198.18.0.1:8080/repo/ inside the lab namespace)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

OUT=$(repo_dir)
if [ -f "$OUT/.done" ]; then echo "$OUT"; exit 0; fi
BASE=$(bash "$E2E_DIR/build-base.sh")
T0=$(date +%s)
safe_rm "$OUT" && mkdir -p "$OUT"
COPY=$OUT.tree
safe_rm "$COPY"
cleanup() {
  for m in proc dev; do umount "$COPY/$m" 2>/dev/null || true; done
  safe_rm "$COPY"
}
trap cleanup EXIT
log "download-only keepalived haproxy curl in a copy of the base tree"
cp -a "$BASE/tree" "$COPY"
cp /etc/resolv.conf "$COPY/etc/resolv.conf"
mount --bind /proc "$COPY/proc"
mount --bind /dev "$COPY/dev"
chroot "$COPY" apt-get update -qq
chroot "$COPY" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only keepalived haproxy curl >/dev/null
mv "$COPY"/var/cache/apt/archives/*.deb "$OUT/"
(
  cd "$OUT"
  apt-ftparchive packages . >Packages
  gzip -9kn Packages
  apt-ftparchive release . >Release
)
log "repo: $(find "$OUT" -name '*.deb' | wc -l) debs, $(du -sh "$OUT" | cut -f1), $(( $(date +%s) - T0 )) s"
touch "$OUT/.done"
echo "$OUT"
