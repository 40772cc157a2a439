#!/usr/bin/env bash
# One lab VM under qemu, inside the lab namespace, NIC on a pre-created tap, direct kernel boot,
# on a throw-away qcow2 overlay of IMAGE (the image itself stays pristine). The NIC is a
# virtio-net device at PCI slot 5 of an i440fx machine (ACPI hotplug slots), so predictable
# naming calls it ens5, as on EC2 Nitro; lb-e2e.yaml names no interface.
#   vm.sh start NAME IMAGE SEED_ISO TAP MAC   -> $RUN/NAME.{qcow2,pid,serial,qmp,t0}
#   vm.sh poweroff NAME    hard power-off (QMP quit), then make sure the process is gone
#   vm.sh ssh IP CMD...    run CMD as root on the VM (from inside the namespace)
# Env: LBE_ACCEL=auto|tcg|kvm (auto: kvm only if the CPU has vmx/svm; the kvm-pvm /dev/kvm on
# these machines cannot boot a stock kernel), LBE_MEM (MiB, 1024), LBE_SMP (1).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

accel() {
  local a=${LBE_ACCEL:-auto}
  if [ "$a" = auto ]; then
    if [ -w /dev/kvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then a=kvm; else a=tcg; fi
  fi
  echo "$a"
}

start() {
  local name=$1 image=$2 seed=$3 tap=$4 mac=$5 base a cpu
  base=$(base_dir)
  [ -f "$base/vmlinuz" ] || die "no base image; run build-base.sh"
  mkdir -p "$RUN"
  rm -f "$RUN/$name".{qcow2,pid,serial,qmp}
  qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$RUN/$name.qcow2"
  a=$(accel)
  if [ "$a" = kvm ]; then cpu=host; else cpu=max; fi
  date +%s.%N >"$RUN/$name.t0"
  ip netns exec "$NS" qemu-system-x86_64 \
    -name "lbe-$name" -machine "pc,accel=$a" -cpu "$cpu" -smp "${LBE_SMP:-1}" -m "${LBE_MEM:-1024}" \
    -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0" \
    -drive "file=$RUN/$name.qcow2,if=virtio,format=qcow2" \
    -drive "file=$seed,if=virtio,format=raw,readonly=on" \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=n0,mac=$mac,addr=0x5" \
    -device virtio-rng-pci \
    -display none -vga none -parallel none -monitor none -serial "file:$RUN/$name.serial" \
    -qmp "unix:$RUN/$name.qmp,server=on,wait=off" \
    -daemonize -pidfile "$RUN/$name.pid"
  log "vm $name started (accel=$a, pid $(cat "$RUN/$name.pid"), tap $tap, mac $mac)"
}

poweroff() {
  local name=$1 pid
  [ -f "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  if [ -S "$RUN/$name.qmp" ]; then
    printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
      timeout 5 socat - "UNIX-CONNECT:$RUN/$name.qmp" >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$RUN/$name.pid"
}

vssh() {
  local ip=$1; shift
  ip netns exec "$NS" ssh -i "$WORK/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 "root@$ip" "$@"
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) [ $# -eq 5 ] || die "usage: vm.sh start NAME IMAGE SEED_ISO TAP MAC"; start "$@" ;;
  poweroff) poweroff "$1" ;;
  ssh) vssh "$@" ;;
  accel) accel ;;
  *) echo "usage: $0 start|poweroff|ssh|accel ..." >&2; exit 2 ;;
esac
