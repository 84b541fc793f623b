"""Segments captures' super-frames with the running kernel's software GSO, printing the
segments as JSON.

Usage (as root, inside a network namespace of its own): ``python kernel_gso.py MSS:TRACE...``.

A veth pair with transmit checksumming off on the sending end (which turns TSO off with it)
makes the kernel segment and checksum in software. Each frame of each trace (a TCP super-frame
over IPv4 or IPv6) is sent from a packet socket with ``PACKET_VNET_HDR``, as a TSO sender hands
it over: ``NEEDS_CSUM`` from the TCP header, the TCP checksum field holding the pseudo-header
sum, ``gso_type`` TCPV4 or TCPV6 (with ECN when CWR is set) and ``gso_size`` MSS. The segments
are read on the other end.

Output: ``{"kernel": release, "traces": [[segment hex, ...], ...]}``.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import platform
import select
import socket
import struct
import subprocess
import sys
import time

import netcore as nc

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x00000017
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_GSO_TCPV4, VIRTIO_GSO_TCPV6, VIRTIO_GSO_ECN = 1, 4, 0x80
TX, RX = "ncgso0", "ncgso1"


def tx_checksumming_off(dev: str) -> None:
    """``ethtool -K dev tx off`` through the legacy ioctl (``ETHTOOL_STXCSUM``)."""
    value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0), 8)
    ifreq = struct.pack("16sP", dev.encode(), ctypes.addressof(value))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifreq)


def ones_sum(data: bytes) -> int:
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data[: len(data) // 2 * 2]))
    if len(data) % 2:
        s += data[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def as_tso(frame: bytes, mss: int) -> bytes:
    """The virtio header and frame a TSO sender hands over (Ethernet, IPv4 or IPv6, TCP)."""
    f = bytearray(frame)
    v6 = f[14] >> 4 == 6
    l4 = 14 + (40 if v6 else 20)
    length = len(f) - l4
    addrs = f[22:54] if v6 else f[26:34]
    seed = ones_sum(bytes(addrs) + struct.pack("!HI", 6, length))
    f[l4 + 16 : l4 + 18] = struct.pack("!H", seed)
    gso_type = VIRTIO_GSO_TCPV6 if v6 else VIRTIO_GSO_TCPV4
    if f[l4 + 13] & 0x80:
        gso_type |= VIRTIO_GSO_ECN
    hdr_len = l4 + (f[l4 + 12] >> 4) * 4
    vnet = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, gso_type, hdr_len, mss, l4, 16)
    return vnet + bytes(f)


def main(specs: list[str]) -> int:
    subprocess.run(["ip", "link", "add", TX, "type", "veth", "peer", "name", RX], check=True)
    for dev in (TX, RX):
        subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"], check=False)
        subprocess.run(["ip", "link", "set", dev, "up"], check=True)
    tx_checksumming_off(TX)
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((RX, 0))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    tx.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    tx.bind((TX, 0))
    traces = []
    for spec in specs:
        mss, path = spec.split(":", 1)
        segments = []
        for packet in nc.open(path).packets():
            tx.send(as_tso(bytes(packet), int(mss)))
            time.sleep(0.01)
            while select.select([rx], [], [], 0.05)[0]:
                segments.append(rx.recv(1 << 17).hex())
        traces.append(segments)
    print(json.dumps({"kernel": platform.release(), "traces": traces}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
