#!/bin/sh
# PID 1 of one LB node: runs inside the node's network namespace, in a fresh PID namespace and a
# private mount namespace (ip netns exec NS unshare --pid --fork --mount-proc --mount ...).
# Gives the node a private /run and its own /etc/keepalived, /etc/haproxy, /var/lib/haproxy so
# the files lbbake renders run unmodified at their real paths; then reaps orphans forever.
# usage: node-init.sh NODEROOT PYTHON
set -eu
root=$1
python=$2
mount -t tmpfs -o mode=0755 lbl-run /run
mkdir -p /run/haproxy
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
