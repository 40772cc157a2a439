#!/bin/sh
# PID 1 of one LB node: runs inside the node's network namespace, in a fresh PID namespace and a
# private mount namespace (ip netns exec NS unshare --pid --fork --mount-proc --mount ...).
# Gives the node a private /run and its own /etc/keepalived, /etc/haproxy, /var/lib/haproxy so
# the files lbbake renders run unmodified at their real paths; then reaps orphans forever.
# With "overlay" (every lab), /etc and /usr are overlays whose upper layers are NODEROOT/etc and
# NODEROOT/usr, so every file of the node's tree there (/etc/lbbake, /usr/libexec/keepalived, ...)
# is at its real path too, over an unchanged host.
# usage: node-init.sh NODEROOT PYTHON [bind|overlay]
set -eu
root=$1
python=$2
how=${3:-bind}
mount -t tmpfs -o mode=0755 lbl-run /run
mkdir -p /run/haproxy
if [ "$how" = overlay ]; then
    for top in etc usr; do
        mkdir -p "$root/$top" "$root/.ovl/$top"
        mount -t overlay "lbl-$top" -o "lowerdir=/$top,upperdir=$root/$top,workdir=$root/.ovl/$top" "/$top"
    done
fi
for d in etc/keepalived etc/haproxy var/lib/haproxy; do
    mkdir -p "$root/$d"
    mount --bind "$root/$d" "/$d"
done
# the lab may give the node its own resolver configuration (the DNS-backend scenario)
if [ -f "$root/etc/resolv.conf" ]; then
    mount --bind "$root/etc/resolv.conf" /etc/resolv.conf
fi
ip link set lo up
: > "$root/ready"
exec "$python" -c '
import os, time
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(0.2)
'
