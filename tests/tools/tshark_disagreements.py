"""Regenerates tests/data/tshark_disagreements.json from the current dissector.

Each packet where netcore and tshark disagree gets a reason: a protocol tshark decodes that
netcore does not (the "carrier" of the layers that differ), IP reassembly, or a reason written
for that file below. A disagreement no rule explains stops the script: write its reason first.
Run: python -m tests.tools.tshark_disagreements
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import netcore as nc
from tests.conformance import (
    TSHARK_TO_NETCORE,
    compress,
    differences,
    netcore_packets,
)
from tests.corpus import CORPUS, expected_packets

OUT = Path(__file__).resolve().parent.parent / "data" / "tshark_disagreements.json"

# Protocols tshark decodes that netcore does not, and what they are.
CARRIERS = {
    "erspan": "ERSPAN (GRE protocol 0x88be/0x22eb mirroring sessions)",
    "gtp": "GTP (GPRS tunnelling over UDP)",
    "gtpprime": "GTP' (charging over UDP)",
    "fr": "Frame Relay (its link type)",
    "cfp": "Cisco FabricPath",
    "ppp": "PPP",
    "pppoes": "PPPoE sessions",
    "arcnet": "ARCNET (its link type)",
    "pim": "PIM register messages, which carry IP packets",
    "ayiya": "AYIYA (IPv6 over UDP)",
    "teredo": "Teredo (IPv6 over UDP)",
    "ipoib": "IP over InfiniBand (its link type)",
    "cmd": "Cisco MetaData",
    "fddi": "FDDI (its link type)",
    "ieee8021ah": "802.1ah provider backbone bridging",
    "chdlc": "Cisco HDLC (its link type)",
    "vntag": "VN-Tag",
    "llc": "802.2 LLC/SNAP",
    "sflow": "sFlow, which carries sampled packet headers",
    "radiotap": "radiotap and 802.11 (its link type)",
    "wlan": "802.11",
    "macsec": "MACsec",
    "nflog": "NFLOG (its link type)",
    "ppi": "PPI (its link type)",
    "openflow": "OpenFlow, which carries packets",
    "nsh": "NSH service chaining",
    "ah": "IPsec AH in a position netcore does not skip",
    "pwethheuristic": "MPLS pseudowires (heuristic Ethernet)",
    "etag": "802.1BR E-tags",
    "wpan": "802.15.4 and 6LoWPAN (its link type)",
    "clip": "Classical IP over ATM (its link type)",
    "juniper": "Juniper link-layer headers (its link type)",
}

FRAGMENT = (
    "IP fragment: tshark reassembles the datagram and shows its layers and checksums on "
    "this packet; netcore dissects each fragment as it is (reassembly is the IP "
    "layer's job, not the dissector's)"
)

# Reasons for the disagreements the rules above do not explain, by file.
BY_FILE = {
    "pcapplusplus/Tests/Packet++Test/PacketExamples/IcmpPackets.pcap": (
        "ICMP error quoting a whole TCP segment: netcore verifies a quoted TCP checksum when "
        "the segment is complete, tshark verifies only quoted UDP"
    ),
    "suricata-verify/decode-too-small/test.pcap": (
        "transport header longer than the IP payload (a too-small-packet test): netcore marks"
        " it malformed (PKT_TOO_SMALL, as tcp_v4_rcv/udp_rcv drop it) and neither names nor "
        "verifies a header that is not there; tshark does one or the other"
    ),
    "suricata-verify/ipv6-evasion/ipv6-malformed-fragments-11/frag-11.pcap": (
        "malformed IPv6 fragment chain (an evasion test): tshark's reassembly rewrites the "
        "layers it shows; netcore dissects the fragment as it is"
    ),
    "suricata-verify/ipv6-evasion/ipv6-malformed-fragments-25/frag-25.pcap": (
        "malformed IPv6 fragment chain (an evasion test): tshark's reassembly rewrites the "
        "layers it shows; netcore dissects the fragment as it is"
    ),
    "suricata-verify/ipv6-evasion/ipv6-malformed-fragments-26/frag-26.pcap": (
        "atomic IPv6 fragment (offset 0, no more fragments) holding TCP: netcore dissects and"
        " verifies the TCP segment (RFC 6946: an atomic fragment is a whole datagram), tshark"
        " leaves it to reassembly"
    ),
    "tcpdump/lisp_invalid_length.pcap": (
        "UDP length shorter than the IP payload: netcore verifies the datagram the UDP length"
        " defines (udp_rcv trims the rest), tshark calls the checksum unverified"
    ),
    "tcpdump/udp-length-heapoverflow.pcap": (
        "UDP length beyond the IP payload: netcore cannot bound the datagram and calls the "
        "checksum unverified, tshark gives no verdict"
    ),
    "zeek/ipv6-mobility-dst-opts.pcap": (
        "Mobile IPv6 destination options: netcore applies the Home Address option to the UDP "
        "pseudo-header (RFC 6275 section 6.3); tshark's reading of this crafted header "
        "differs"
    ),
    "zeek/trunc/mpls-6in6-broken.pcap": (
        "fuzzed MPLS payload: netcore guesses the payload from its first nibble as Linux's "
        "MPLS input does and finds a broken IPv4 header; tshark's heuristic declines or "
        "verifies differently"
    ),
    "tcpdump/LINKTYPE_IPV6_invalid.pcap": (
        "raw-IPv6 link type carrying bytes that are not IPv6: netcore names the layer the "
        "link type announces and marks it malformed (IP_INHDR); tshark shows no protocol"
    ),
    "tcpdump/beep-oobr.pcap": (
        "raw-IPv6 link type carrying bytes that are not IPv6: netcore names the layer the "
        "link type announces and marks it malformed (IP_INHDR); tshark shows no protocol"
    ),
    "tcpdump/hoobr_rt6_print.pcap": (
        "raw-IPv6 link type carrying bytes that are not IPv6: netcore names the layer the "
        "link type announces and marks it malformed (IP_INHDR); tshark shows no protocol"
    ),
    "zeek/quic/383379789-decrypt-crash.pcap": (
        "IPv6 header cut short in a complete frame: netcore names the layer the ethertype "
        "announces and marks it malformed; tshark hands the bytes to its data dissector"
    ),
    "suricata-verify/bug-7414-decoder-event-01/ip_secopt.pcap": (
        "IPv4 security option of a bad length: netcore skips options by IHL as the kernel "
        "does and dissects the UDP datagram; tshark stops after the IP header"
    ),
    "tcpdump/LINKTYPE_IPV4_invalid.pcap": (
        "raw-IPv4 link type carrying an IPv6 packet: netcore follows the link type (a wrong "
        "version, malformed), tshark follows the version nibble"
    ),
    "tcpdump/kday3.pcap": (
        "6in4 payload whose version nibble is not 6: netcore does not take it for IPv6, "
        "tshark names the layer anyway"
    ),
    "zeek/tunnels/mpls-6in6-6in6-4in6-invalid-version-4.pcap": (
        "IPv4-in-IPv6 payload whose version nibble is not 4: netcore does not take it for "
        "IPv4, tshark names the layer anyway"
    ),
    "tcpdump/icmp6-rfc8335.pcap": (
        "ICMPv6 extended echo (RFC 8335) carries an extension structure tshark names 'icmp'; "
        "netcore does not dissect ICMP extensions"
    ),
    "zeek/icmp/icmp6-redirect-hdr-opt.pcap": (
        "ICMPv6 redirect with a Redirected Header option: tshark dissects the quoted packet "
        "inside the option, netcore does not dissect NDP options"
    ),
    "tcpdump/wccp_redirect_gre.pcap": (
        "GRE carrying WCCP redirects (protocol 0x883e): tshark decodes the WCCP header and "
        "the packet inside, netcore does not dissect WCCP"
    ),
    "tcpdump/arp-oobr.pcap": (
        "fuzzed ARP with address lengths that run past the frame: tshark shows a second 'arp'"
        " layer for the bytes after it, netcore one"
    ),
    "zeek/trunc/ip6-ext-trunc.pcap": (
        "hop-by-hop header cut short: tshark names the truncated extension header, netcore "
        "stops at the fixed IPv6 header it could check"
    ),
    "tcpdump/icmp6_mobileprefix_asan.pcap": (
        "empty or very short frame: tshark names an Ethernet layer with no header bytes, "
        "netcore records no layer"
    ),
    "tcpdump/olsr-oobr-2.pcap": (
        "empty or very short frame: tshark names an Ethernet layer with no header bytes, "
        "netcore records no layer"
    ),
    "tcpdump/rx_serviceid_oobr.pcap": (
        "empty or very short frame: tshark names an Ethernet layer with no header bytes, "
        "netcore records no layer"
    ),
    "zeek/tunnels/geneve-truncated.pcapng": (
        "Geneve packet cut inside its inner frame: tshark names the inner Ethernet layer, "
        "netcore stops where the capture cut it"
    ),
    "suricata-verify/ipv6-evasion/ipv6-malformed-fragments-12/frag-12.pcap": (
        "a chain of hundreds of IPv6 fragment headers: netcore follows at most 16 extension "
        "headers and treats a longer chain as a loop (IPV6_BAD_EXTHDR); tshark follows all"
    ),
    "tcpdump/bigtcp-ipv4-geneve-ipv6.pcap": (
        "BIG TCP super-packet captured on its sender (length field 0): netcore takes the "
        "frame's length, as for TSO, and gives the transport checksum a verdict; tshark marks"
        " the packet malformed and gives none"
    ),
    "tcpdump/bigtcp-ipv6.pcap": (
        "BIG TCP super-packet captured on its sender (length field 0): netcore takes the "
        "frame's length, as for TSO, and gives the transport checksum a verdict; tshark marks"
        " the packet malformed and gives none"
    ),
    "tcpdump/icmp-icmp_print-oobr-1.pcap": (
        "IPv4 total length 0 (taken as TSO) in a frame cut by the capture: netcore verifies "
        "the ICMP bytes present, tshark gives no verdict"
    ),
    "tcpdump/ip_printroute_asan.pcap": (
        "IPv4 header cut by the capture: netcore gives no verdict for a header it does not "
        "hold; tshark says unverified here and nothing in other such captures"
    ),
    "tcpdump/quic_32_bit_pointer_overflow.pcap": (
        "UDP length below the header in a frame cut by the capture: netcore gives no verdict,"
        " tshark says unverified"
    ),
    "zeek/trunc/ip-discarder-truncated-tcp-oob.pcapng": (
        "TCP header entirely cut by the capture: tshark names the layer, netcore records no "
        "layer for a header with no captured byte"
    ),
    "zeek/trunc/ipv4-truncated-broken-header.pcap": (
        "IPv4 header longer than a complete frame: netcore calls its checksum unverified, "
        "tshark gives no verdict here (and 'unverified' in other such captures)"
    ),
    "zeek/trunc/mpls-6in6-6in6-4in6-trunc.pcap": (
        "IPv4 header longer than a complete frame: netcore calls its checksum unverified, "
        "tshark gives no verdict here (and 'unverified' in other such captures)"
    ),
    "pcapplusplus/Tests/Pcap++Test/PcapExamples/ip4_bad_fragment.pcap": (
        "IPv4 header longer than the frame inside MPLS: tshark calls its checksum unverified,"
        " netcore gives no verdict for a header the capture does not hold"
    ),
}

SKIP = {"ethertype", "data", "frame"}


def reason_for(fid: str, protocols: str, ours: list[str], frag: int) -> str | None:
    chain = protocols.split(":")
    mapped = [(i, TSHARK_TO_NETCORE[p]) for i, p in enumerate(chain) if p in TSHARK_TO_NETCORE]
    names = [m for _, m in mapped]
    k = 0
    while k < min(len(names), len(ours)) and names[k] == ours[k]:
        k += 1
    if names != ours and k < len(names):
        before = mapped[k - 1][0] if k else -1
        carriers = [p for p in chain[before + 1 : mapped[k][0]] if p not in SKIP]
        if carriers and carriers[0] in CARRIERS:
            return (
                f"tshark decodes {CARRIERS[carriers[0]]}, which netcore does not dissect, "
                "and the layers inside it"
            )
    if frag:
        return FRAGMENT
    if names != ours and k == len(ours) and k < len(names) and chain and chain[0] in CARRIERS:
        return f"tshark decodes {CARRIERS[chain[0]]}, which netcore does not dissect"
    return BY_FILE.get(fid)


def main() -> int:
    expected = expected_packets()
    entries: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    missing = []
    for fid, recs in sorted(expected.items()):
        try:
            ours = list(netcore_packets(str(CORPUS / fid)))
        except nc.CaptureError:
            continue
        for ref, pkt in zip(recs, ours, strict=False):
            diff = differences(pkt, ref)
            if not diff:
                continue
            reason = reason_for(fid, ref["protocols"], pkt.layers, pkt.frag)
            if reason is None:
                missing.append((fid, ref["n"], ref["protocols"], pkt.layers, diff))
                continue
            entries[(fid, ",".join(diff), reason)].append(ref["n"])
    if missing:
        for m in missing:
            print("no reason:", *m, file=sys.stderr)
        return 1
    out: list[dict[str, Any]] = [
        {"file": fid, "packets": compress(ns), "differs": differs.split(","), "reason": reason}
        for (fid, differs, reason), ns in sorted(entries.items())
    ]
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{sum(len(v) for v in entries.values())} packets in {len(out)} entries -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
