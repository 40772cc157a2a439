#!/usr/bin/env bash
# Builds the lab's base image: Debian 12 minbase + kernel + cloud-init, standing in for a
# stock cloud image. Output (cached, keyed by a hash of this script):
#   $WORK/base-<hash>/{base.qcow2,vmlinuz,initrd.img,tree/}
# The image has no bootloader: VMs boot it with qemu's direct kernel boot.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

OUT=$(base_dir)
if [ -f "$OUT/.done" ]; then echo "$OUT"; exit 0; fi
safe_rm "$OUT" && mkdir -p "$OUT" "$WORK/debcache"
T0=$(date +%s)
TREE=$OUT/tree
# python3-cffi-backend: debootstrap does not resolve virtual packages (cloud-init ->
# python3-cryptography -> python3-cffi-backend-api-min). procps: pgrep (liveness check).
# e2fsprogs: cloud-init's resizefs runs resize2fs (Debian 13's minbase no longer has it: its
# cloud-init then fails the network stage, "Failed to resize filesystem"; cloud images have it).
INCLUDE=linux-image-amd64,systemd-sysv,cloud-init,python3-cffi-backend,openssh-server,ifupdown,iproute2,procps,sudo,netbase,e2fsprogs
log "debootstrap $SUITE minbase -> $TREE"
if ! debootstrap --variant=minbase --components=main --include="$INCLUDE" \
      --cache-dir="$WORK/debcache" "$SUITE" "$TREE" "$MIRROR" >"$OUT/debootstrap.out" 2>&1; then
  tail -30 "$OUT/debootstrap.out" >&2; tail -30 "$TREE/debootstrap/debootstrap.log" >&2 || true
  die "debootstrap failed"
fi

# cloud-init: only the NoCloud seed; C.UTF-8 because minbase has no locales package
# (the default en_US.UTF-8 makes cc_locale fail and cloud-init end in status: error).
cat >"$TREE/etc/cloud/cloud.cfg.d/90-lbe-lab.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
CFG
echo "deb $MIRROR $SUITE main" >"$TREE/etc/apt/sources.list"
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$TREE/etc/fstab"
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$TREE/etc/network/interfaces"
: >"$TREE/etc/machine-id"
rm -f "$TREE/var/lib/dbus/machine-id" "$TREE"/etc/ssh/ssh_host_*
chroot "$TREE" apt-get clean
cp -L "$TREE/vmlinuz" "$OUT/vmlinuz"
cp -L "$TREE/initrd.img" "$OUT/initrd.img"

log "mke2fs -d -> base.qcow2"
mke2fs -q -t ext4 -L root -d "$TREE" "$OUT/base.raw" 3G >"$OUT/mke2fs.out" 2>&1 || { cat "$OUT/mke2fs.out" >&2; die "mke2fs failed"; }
qemu-img convert -O qcow2 "$OUT/base.raw" "$OUT/base.qcow2"
rm -f "$OUT/base.raw"
echo "base image built in $(( $(date +%s) - T0 )) s" | tee "$OUT/build-time.txt" >&2
touch "$OUT/.done"
echo "$OUT"
