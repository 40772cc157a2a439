#!/usr/bin/env bash
# The lab network: namespace $NS holding bridge $BR (fixed MAC, 198.18.0.1/24, backends
# 198.18.0.21-24 on it), one tap per VM, the apt repo http server and the backends.
# Nothing is attached to the root namespace; no slirp; no route anywhere.
#   net.sh up            namespace, bridge, taps, repo server, backends
#   net.sh down          kill the servers this script started, delete the namespace
#   net.sh status
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

TAPS=(lbe-tap-lb0 lbe-tap-lb1 lbe-tap-pk lbe-tap-pk2)
# .24: the apiserver the second image's lb.yaml adds (Scenario B's rolling replacement)
BACKENDS=(198.18.0.21 198.18.0.22 198.18.0.23 198.18.0.24)

start_bg() { # name cmd... : start a background process inside the namespace, record its pid
  local name=$1; shift
  ip netns exec "$NS" "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

wait_port() { # addr port : bounded wait for a TCP listener
  for _ in $(seq 1 50); do
    if nsx bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  die "nothing listens on $1:$2 after 10 s"
}

up() {
  mkdir -p "$RUN"
  if ip netns list | grep -qw "$NS"; then down; fi
  local repo; repo=$(bash "$E2E_DIR/build-repo.sh")
  ip netns add "$NS"
  nsx ip link set lo up
  nsx ip link add "$BR" type bridge
  nsx ip link set "$BR" address "$BR_MAC"
  nsx ip addr add "$BR_IP/24" dev "$BR"
  for a in "${BACKENDS[@]}"; do nsx ip addr add "$a/24" dev "$BR"; done
  for t in "${TAPS[@]}"; do
    nsx ip tuntap add dev "$t" mode tap
    nsx ip link set "$t" master "$BR"
    nsx ip link set "$t" up
  done
  nsx ip link set "$BR" up
  mkdir -p "$RUN/www"
  # served as $REPO_URL: /repo (Debian 12) or /repo-<suite>
  ln -sfn "$repo" "$RUN/www/${REPO_URL##*/}"
  start_bg repo-http python3 -m http.server 8080 --bind "$BR_IP" --directory "$RUN/www"
  if [ ! -f "$RUN/backend.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=lbe-backend \
      -keyout "$RUN/backend.key" -out "$RUN/backend.crt" 2>/dev/null
  fi
  start_bg backends python3 "$E2E_DIR/backend.py" --cert "$RUN/backend.crt" --key "$RUN/backend.key" \
    "${BACKENDS[@]/%/:6443}"
  wait_port "$BR_IP" 8080
  for a in "${BACKENDS[@]}"; do wait_port "$a" 6443; done
  log "lab up: netns $NS, $BR $BR_IP/24, repo $REPO_URL, backends ${BACKENDS[*]}"
}

down() {
  local f pid
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  if ip netns list | grep -qw "$NS"; then
    # anything else still running in the lab namespace (a packer-started qemu, a probe of an
    # interrupted run): only processes inside our own namespace, never by name
    local pids
    pids=$(ip netns pids "$NS" || true)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill $pids 2>/dev/null || true
      for _ in $(seq 1 50); do [ -z "$(ip netns pids "$NS" || true)" ] && break; sleep 0.1; done
      pids=$(ip netns pids "$NS" || true)
      # shellcheck disable=SC2086
      if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null || true; sleep 0.2; fi
    fi
    ip netns del "$NS"
  fi
}

status() {
  ip netns list | grep -w "$NS" || { echo "no namespace $NS"; return 0; }
  nsx ip -br addr
  for f in "$RUN"/*.pid; do [ -e "$f" ] && echo "$(basename "$f" .pid): $(cat "$f")"; done
  return 0
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
