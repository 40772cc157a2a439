#!/usr/bin/env bash
# Builds (once) a Debian chroot holding the real validators of one Debian suite: haproxy,
# keepalived and cloud-init, nothing else but their dependencies (debootstrap minbase).
#   build-chroot.sh SUITE   -> prints the chroot's directory on stdout
# Cached outside the repo in $LBM_CACHE (/var/cache/lbbake-matrix)/<suite>-<key>, where key is a
# hash of the package list (and RECIPE); sid, which moves, is rebuilt after 30 days.
# The host's apt configuration is only read, never changed: the Debian mirror the host uses
# (its sources.list*; LBM_MIRROR overrides) is handed to debootstrap, and the chroot keeps its
# own apt state.
# No service ever starts: debootstrap --foreign unpacks, then /usr/sbin/policy-rc.d (exit 101) is
# put into the tree before --second-stage configures the packages (their postinst scripts would
# otherwise try invoke-rc.d start haproxy / keepalived), and everything runs in a private mount
# namespace, so no mount outlives the build.
set -euo pipefail
SUITE=${1:?usage: build-chroot.sh SUITE}
case "$SUITE" in bullseye|bookworm|trixie|sid|forky) ;; *) echo "unknown suite $SUITE" >&2; exit 2 ;; esac
CACHE=${LBM_CACHE:-/var/cache/lbbake-matrix}
# The host's Debian mirror: the first URI of a sources entry for a plain suite (not -security).
host_mirror() {
  {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i+1) !~ /-security$/) print $i; break } }'
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN { RS = ""; FS = "\n" }
        { uri = ""; suites = ""
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
            if ($i ~ /^Suites:/) suites = $i
          }
          if (uri != "" && suites !~ /-security/ && uri !~ /security/) print uri }' "$f"
    done
  } | head -1
}
MIRROR=${LBM_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || { echo "build-chroot.sh: no Debian mirror found in /etc/apt/sources.list*; set LBM_MIRROR" >&2; exit 1; }
# What the matrix runs: the three validators. python3-cffi-backend: debootstrap does not resolve
# virtual packages (cloud-init -> python3-cryptography -> python3-cffi-backend-api-min). curl: the
# readiness check keepalived.conf runs (keepalived -t disables a check whose program is missing).
PACKAGES=haproxy,keepalived,cloud-init,python3-cffi-backend,curl
# bump RECIPE when the build steps below change what a chroot holds
RECIPE=1
KEY=$(printf 'packages=%s variant=minbase recipe=%s\n' "$PACKAGES" "$RECIPE" | sha256sum | cut -c1-12)
OUT=$CACHE/$SUITE-$KEY
fresh() {
  [ -f "$OUT/.done" ] || return 1
  [ "$SUITE" != sid ] || [ -z "$(find "$OUT/.done" -mtime +30)" ]
}
if fresh; then echo "$OUT"; exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.$SUITE.lock"
flock 9
if fresh; then echo "$OUT"; exit 0; fi
T0=$(date +%s)
TMP=$OUT.tmp
rm -rf --one-file-system "$TMP"
mkdir -p "$TMP" "$CACHE/debs"
log=$CACHE/$SUITE-$KEY.log
build() {
  set -e
  debootstrap --foreign --variant=minbase --components=main --include="$PACKAGES" \
    --cache-dir="$CACHE/debs" "$SUITE" "$TMP" "$MIRROR"
  printf '#!/bin/sh\n# lbbake matrix chroot: never start a service\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
  chmod 755 "$TMP/usr/sbin/policy-rc.d"
  chroot "$TMP" /debootstrap/debootstrap --second-stage
  chroot "$TMP" apt-get clean
}
export -f build
export SUITE TMP PACKAGES CACHE MIRROR
if ! unshare --mount --propagation private bash -c build >"$log" 2>&1; then
  tail -30 "$log" >&2
  tail -30 "$TMP/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  echo "build-chroot.sh: debootstrap $SUITE failed (log: $log)" >&2
  exit 1
fi
rm -rf --one-file-system "$OUT"
mv "$TMP" "$OUT"
echo "$(( $(date +%s) - T0 ))" >"$OUT/.build-seconds"
touch "$OUT/.done"
echo "$OUT"
