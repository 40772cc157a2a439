"""A lossy, jittery link for the lab, in user space (this kernel has no netem).

impair.py QUEUE LOSS_PERCENT DELAY_MS JITTER_MS [SEED]

Run in an LB node's network namespace, beside an iptables rule that sends the node's outgoing
packets to NFQUEUE number QUEUE (with --queue-bypass, so packets pass untouched when this
program is not running). Each packet is dropped with probability LOSS_PERCENT/100, else released
after a delay drawn uniformly from [DELAY_MS - JITTER_MS, DELAY_MS + JITTER_MS] (never below 0),
independently per packet, like `tc qdisc ... netem loss L% delay D J` (packets may be reordered).
Runs at real-time priority when it can, so a busy CPU in the node does not add to the delay: the
link is not part of the node. Speaks nfnetlink_queue directly (Python standard library only).
Prints one "impair: ..." line when bound and counters when stopped (SIGTERM or stdin closed).
"""
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_DROP = 0
NF_ACCEPT = 1


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def attrs_of(data):
    out = {}
    i = 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        if length < 4:
            break
        out[kind & 0x3FFF] = data[i + 4:i + length]
        i += (length + 3) & ~3
    return out


def config(sock, queue, attrs, seq):
    sock.send(message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK, seq))
    data = sock.recv(65536)
    _, mtype, _, _, _ = struct.unpack_from("=IHHII", data, 0)
    if mtype == NLMSG_ERROR:
        (err,) = struct.unpack_from("=i", data, 16)
        if err != 0:
            raise OSError(-err, "nfqueue config: %s" % os.strerror(-err))


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    queue = int(sys.argv[1])
    loss = float(sys.argv[2]) / 100.0
    delay = float(sys.argv[3]) / 1000.0
    jitter = float(sys.argv[4]) / 1000.0
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else None)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        rt = "real-time"
    except (OSError, AttributeError):
        rt = "normal priority"

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, 0))
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET))], 1)
    config(sock, queue, [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
                         attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 8192))], 2)
    sys.stdout.write("impair: queue %d bound (%s): loss %.1f%%, delay %.0f ms +/- %.0f ms\n"
                     % (queue, rt, loss * 100, delay * 1000, jitter * 1000))
    sys.stdout.flush()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    pending = []  # (due, packet id)
    counts = {"seen": 0, "dropped": 0, "passed": 0}

    def verdict(pid, v):
        sock.send(message(NFQNL_MSG_VERDICT, queue, [attr(NFQA_VERDICT_HDR, struct.pack("!II", v, pid))]))

    watch = [sock, sys.stdin]
    while not stop:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, pid = heapq.heappop(pending)
            verdict(pid, NF_ACCEPT)
            counts["passed"] += 1
        timeout = max(0.0, pending[0][0] - now) if pending else 0.5
        try:
            ready, _, _ = select.select(watch, [], [], timeout)
        except InterruptedError:
            continue
        if sys.stdin in ready:
            if not sys.stdin.buffer.read1(4096):
                break
        if sock not in ready:
            continue
        try:
            data = sock.recv(1 << 20)
        except OSError as err:  # ENOBUFS: the kernel dropped queued packets' notifications
            sys.stdout.write("impair: recv: %s\n" % err)
            continue
        i = 0
        while i + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, i)
            if length < 16:
                break
            if mtype == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                hdr = attrs_of(data[i + 20:i + length]).get(NFQA_PACKET_HDR)
                if hdr is not None:
                    (pid,) = struct.unpack_from("!I", hdr, 0)
                    counts["seen"] += 1
                    if rng.random() < loss:
                        verdict(pid, NF_DROP)
                        counts["dropped"] += 1
                    else:
                        d = max(0.0, rng.uniform(delay - jitter, delay + jitter))
                        heapq.heappush(pending, (time.monotonic() + d, pid))
            i += (length + 3) & ~3
    for _, pid in pending:
        verdict(pid, NF_ACCEPT)
    sys.stdout.write("impair: stopped: %(seen)d packets, %(dropped)d dropped, %(passed)d delayed\n" % counts)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
