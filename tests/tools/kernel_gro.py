"""Runs captures through the running kernel's GRO and prints what it delivered, as JSON.

Usage (as root, inside a network namespace of its own): ``python kernel_gro.py TRACE...``.

A tap device with NAPI (``IFF_TAP | IFF_NO_PI | IFF_NAPI``) feeds every written frame to
``napi_gro_receive()``. Written one by one, each frame would be polled alone; so NAPI is
threaded and its thread pinned to the writer's CPU, and the writer runs ``SCHED_FIFO`` while it
writes a trace: the thread can only poll once the writer sleeps, and then takes the whole
trace (at most 64 frames, tun's NAPI weight) in one poll, which ends in a flush, as a NIC's
poll does. A packet socket on the tap with ``PACKET_VNET_HDR`` reads each packet the stack
received, with its ``gso_type`` and ``gso_size``.

Output: one JSON object: ``{"kernel": release, "traces": [{"polls": n, "packets": [[len,
gso_type, gso_size], ...]}, ...]}``, ``gso_type`` as in ``struct virtio_net_hdr``. Exit code 77
when the kernel cannot do this (no threaded NAPI, no NAPI thread found).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import netcore as nc

IFF_TAP = 0x0002
IFF_NAPI = 0x0010
IFF_NO_PI = 0x1000
TUNSETIFF = 0x400454CA
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
SO_RCVBUFFORCE = 33  # not exported by Python's socket module
VNET_HDR = struct.Struct("<BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start/offset
TAP = "nctap0"
SKIP = 77  # tests/kernelns.py turns this exit code into a skip


def napi_threads(dev: str) -> list[int]:
    """Pids of the kernel threads polling ``dev`` (named ``napi/<dev>-<id>``)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().startswith(f"napi/{dev}-"):
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def voluntary_switches(pids: list[int]) -> int:
    """How often the threads slept: one per NAPI poll that emptied the queue."""
    n = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                n += int(line.split()[1])
    return n


def main(paths: list[str]) -> int:
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", TAP.encode(), IFF_TAP | IFF_NO_PI | IFF_NAPI))
    # No IPv6 on the tap: the stack would send router solicitations of its own.
    subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{TAP}.disable_ipv6=1"], check=False)
    subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
    try:
        Path(f"/sys/class/net/{TAP}/threaded").write_text("1")
    except OSError as e:
        print(f"no threaded NAPI: {e}", file=sys.stderr)
        return SKIP
    time.sleep(0.05)
    pids = napi_threads(TAP)
    if not pids:
        print("no NAPI thread for the tap", file=sys.stderr)
        return SKIP
    cpu = min(os.sched_getaffinity(0))
    for pid in pids:
        os.sched_setaffinity(pid, {cpu})
    os.sched_setaffinity(0, {cpu})

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    sock.bind((TAP, 0))

    traces = []
    for path in paths:
        frames = [bytes(p) for p in nc.open(path).packets()]
        before = voluntary_switches(pids)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        try:
            for frame in frames:
                os.write(tun, frame)
        finally:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        time.sleep(0.05)  # the NAPI thread polls now
        polls = voluntary_switches(pids) - before
        packets = []
        while select.select([sock], [], [], 0.05)[0]:
            data = sock.recv(1 << 17)
            _, gso_type, _, gso_size, _, _ = VNET_HDR.unpack_from(data)
            packets.append([len(data) - VNET_HDR.size, gso_type, gso_size])
        traces.append({"polls": polls, "packets": packets})
    print(json.dumps({"kernel": platform.release(), "traces": traces}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
