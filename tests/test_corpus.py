"""Every capture of the shared corpus reads as tshark reads it, or fails the documented way."""

from __future__ import annotations

from typing import Any

import numpy as np

import netcore as nc
from tests.corpus import catalogue, expected_packets, require_corpus

# Files tshark cannot read but netcore can: link types tshark 4.0 does not know are still
# carried as opaque frames, and a nonzero reserved field beside the link type is kept, not
# refused. For these the expectation is "reads without error", with no tshark count to match.
OPAQUE_LINKTYPE_FILES = {
    "tcpdump/brcm-tag-prepend.pcap",
    "tcpdump/brcm-tag.pcap",
    "tcpdump/dsa-high-vid.pcap",
    "tcpdump/edsa-high-vid.pcap",
    "tcpdump/hoobr_juniper3.pcap",
    "tcpdump/juniper_es_oobr.pcap",
    "tcpdump/juniper_monitor_invalid_cookie_length.pcap",
    "tcpdump/kday6.pcap",
    "tcpdump/vtp_asan-2.pcap",
    "tcpdump/vtp_asan.pcap",
    "libpcap/linktype-reserved-field-not-zero.pcap",
}

# Files that are not readable captures: (reason netcore gives, substring of its message).
REFUSED = {
    "libpcap/pcap-invalid-version-1.pcap": "unsupported pcap version 1.",
    "libpcap/pcapng-invalid-vers-2.pcapng": "unsupported pcapng version 1.1",
    "libpcap/shb-option-too-long.pcapng": "trailer length",
}


# Link types whose records start with a pseudo-header that Wireshark's pcap reader moves out of
# the frame: tshark's caplen and len are the record's minus that header, netcore's are the
# record's own (the bytes are kept for the dissector).
PSEUDO_HEADER_BYTES = {
    123: 4,  # LINKTYPE_SUNATM: 4-byte SunATM header (flags, VPI, VCI)
}


def read_all(path: str, **kw: Any) -> tuple[nc.Capture, list[tuple[int, int]]]:
    cap = nc.open(path, **kw)
    lens: list[tuple[int, int]] = []
    for b in cap:
        lens.extend(zip(b.caplen.tolist(), b.wirelen.tolist(), strict=True))
    return cap, lens


def test_every_capture_matches_tshark() -> None:
    corpus = require_corpus()
    cat = catalogue()
    expected = expected_packets()
    checked = mismatches = 0
    failures: list[str] = []
    for fid, entry in sorted(cat.items()):
        path = str(corpus / fid)
        if entry["format"] == "snoop":
            try:
                read_all(path)
            except nc.CaptureError as e:
                assert e.offset == 0 and "snoop" in str(e), str(e)
            else:
                failures.append(f"{fid}: snoop file was not refused")
            continue
        if fid in REFUSED:
            try:
                read_all(path)
            except nc.CaptureError as e:
                assert REFUSED[fid] in str(e), f"{fid}: {e}"
                assert e.path == path
            else:
                failures.append(f"{fid}: expected CaptureError")
            continue
        try:
            cap, lens = read_all(path)
        except nc.CaptureError as e:
            failures.append(f"{fid}: {e}")
            continue
        if fid in OPAQUE_LINKTYPE_FILES:
            assert cap.info.packets == len(lens), fid
            continue
        recs = expected.get(fid, [])
        want = [
            (
                r["caplen"] + PSEUDO_HEADER_BYTES.get(r["link"], 0),
                r["len"] + PSEUDO_HEADER_BYTES.get(r["link"], 0),
            )
            for r in recs
        ]
        checked += 1
        if lens != want:
            mismatches += 1
            diff = next(
                (i for i, (a, b) in enumerate(zip(lens, want, strict=False)) if a != b),
                min(len(lens), len(want)),
            )
            failures.append(f"{fid}: {len(lens)} packets, tshark {len(want)}; first diff at {diff}")
        links = [r["link"] for r in expected.get(fid, [])]
        if links and not failures:
            got_links: list[int] = []
            for b in nc.open(path):
                got_links.extend(b.linktype.tolist())
            if got_links != links:
                failures.append(f"{fid}: link types differ")
    print(f"corpus: {checked} captures compared with tshark, {mismatches} differ")
    assert not failures, "\n".join(failures[:40])
    assert checked > 1000


def test_lenient_mode_never_raises_on_the_corpus() -> None:
    corpus = require_corpus()
    for fid, entry in sorted(catalogue().items()):
        path = str(corpus / fid)
        if entry["format"] == "snoop" or fid in REFUSED:
            continue  # file-level headers that are not captures: refused in both modes
        cap, lens = read_all(path, strict=False, batch_size=7)
        _, strict_lens = read_all(path)
        assert lens == strict_lens, fid
        assert cap.info.packets == len(lens)
        assert np.sum([c for c, _ in lens], dtype=np.int64) == cap.info.caplen_bytes
