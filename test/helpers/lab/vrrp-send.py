"""Sends VRRPv3 adverts as a host that is not an LB node would (the rogue of the firewall test).

vrrp-send.py SRC DST VRID PRIORITY VIP COUNT

COUNT adverts (IP protocol 112, TTL 255, checksum over the IPv4 pseudo-header as RFC 5798 asks),
10 ms apart, from SRC to DST (a node's address or 224.0.0.18), claiming VIP with PRIORITY.
Prints how many were sent.
"""
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    src, dst, vrid, prio, vip, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    # version 3, type 1 (advertisement); 1 address; max advert interval 10 centiseconds
    body = struct.pack("!BBBBH", 0x31, vrid, prio, 1, 10) + socket.inet_aton(vip)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 112, len(body) + 2)
    hdr = struct.pack("!BBBBH", 0x31, vrid, prio, 1, 10)
    csum = checksum(pseudo + hdr + struct.pack("!H", 0) + socket.inet_aton(vip))
    packet = hdr + struct.pack("!H", csum) + socket.inet_aton(vip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.bind((src, 0))
    for _ in range(count):
        s.sendto(packet, (dst, 0))
        time.sleep(0.01)
    print("sent %d adverts from %s to %s (VRID %d, priority %d)" % (count, src, dst, vrid, prio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
