# shellcheck shell=bash
# Shared settings of the e2e VM lab. Sourced by the other e2e/*.sh scripts.
# Everything the lab creates carries the prefix "lbe-"; all addresses are in 198.18.0.0/15.
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export E2E_DIR
export WORK=${LBE_WORK:-/var/cache/lbbake-e2e}        # images and caches (kept between runs)
export RUN=${LBE_RUN:-$WORK/run}                      # per-run state: pids, seeds, overlays, logs
export NS=${LBE_NS:-lbe-lab}                          # the lab's network namespace
export BR=lbe-br0
export BR_MAC=02:1b:e0:00:00:01                       # fixed: a bridge would take its lowest port MAC
export BR_IP=198.18.0.1
export MIRROR=${LBE_MIRROR:-http://deb.debian.org/debian}
# The Debian release of the base image and local repo: bookworm (Debian 12) or trixie (Debian 13).
export SUITE=${LBE_SUITE:-bookworm}
case "$SUITE" in bookworm|trixie) ;; *) echo "LBE_SUITE must be bookworm or trixie, not $SUITE" >&2; exit 2 ;; esac
# bookworm keeps the unprefixed names it always had (its cached images stay valid)
if [ "$SUITE" = bookworm ]; then SUITE_TAG=""; else SUITE_TAG="$SUITE-"; fi
export SUITE_TAG
export REPO_URL="http://$BR_IP:8080/repo${SUITE_TAG:+-$SUITE}"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# key of a cached build step: hash of the scripts that define it (comments and blank lines
# do not count)
hash_of() { cat "$@" | grep -vE '^[[:space:]]*(#|$)' | sha256sum | cut -c1-12; }
base_key() { hash_of "$E2E_DIR/build-base.sh"; }
base_dir() { echo "$WORK/base-$SUITE_TAG$(base_key)"; }
repo_dir() { echo "$WORK/repo-$SUITE_TAG$(hash_of "$E2E_DIR/build-base.sh" "$E2E_DIR/build-repo.sh")"; }

# run in the lab namespace
nsx() { ip netns exec "$NS" "$@"; }

# unmount whatever is mounted below DIR (a failed debootstrap/chroot leaves proc, dev, ...)
umount_under() {
  local d m
  d=$(realpath -m "$1")
  awk -v d="$d/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
# remove a build directory, never crossing into a mounted filesystem
safe_rm() { umount_under "$1"; rm -rf --one-file-system "$1"; }
