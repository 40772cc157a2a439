#!/bin/sh
# PID 1 of one LB node: runs inside the node's network namespace, in a fresh PID namespace and a
# private mount namespace (ip netns exec NS unshare --pid --fork --mount-proc --mount ...).
# Gives the node a private /run and its own /etc/keepalived, /etc/haproxy, /var/lib/haproxy so
# the files lbbake renders run unmodified at their real paths; then reaps orphans forever.
# With "overlay" (cloud labs), /etc and /usr are overlays whose upper layers are NODEROOT/etc and
# NODEROOT/usr, so every file of the node's tree there (/etc/lbbake, /usr/libexec/keepalived, ...)
# is at its real path too, over an unchanged host; otherwise only /usr is, when the tree has one.
# usage: node-init.sh NODEROOT PYTHON [bind|overlay]
set -eu
root=$1
python=$2
how=${3:-bind}
mount -t tmpfs -o mode=0755 lbl-run /run
mkdir -p /run/haproxy
overlay() {
    mkdir -p "$root/$1" "$root/.ovl/$1"
    mount -t overlay "lbl-$1" -o "lowerdir=/$1,upperdir=$root/$1,workdir=$root/.ovl/$1" "/$1"
}
if [ "$how" = overlay ]; then
    overlay etc
    overlay usr
elif [ -d "$root/usr" ]; then
    # the scripts keepalived runs (/usr/local/libexec/lbbake) at their real paths
    overlay usr
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
