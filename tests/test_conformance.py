"""Dissection agrees with tshark on the shared corpus, except where a listed reason says why."""

from __future__ import annotations

import json
from pathlib import Path

import netcore as nc
from tests.conformance import differences, expand, netcore_packets
from tests.corpus import CORPUS, expected_packets, require_corpus

DISAGREEMENTS = Path(__file__).parent / "data" / "tshark_disagreements.json"


def test_layers_and_checksums_agree_with_tshark() -> None:
    require_corpus()
    listed: dict[tuple[str, int], tuple[list[str], str]] = {}
    for entry in json.loads(DISAGREEMENTS.read_text()):
        assert entry["reason"].strip(), entry
        for n in expand(entry["packets"]):
            listed[(entry["file"], n)] = (entry["differs"], entry["reason"])
    total = agree = explained = 0
    unexplained: list[str] = []
    wrong_diff: list[str] = []
    seen_listed: set[tuple[str, int]] = set()
    for fid, refs in sorted(expected_packets().items()):
        try:
            ours = list(netcore_packets(str(CORPUS / fid)))
        except nc.CaptureError:
            continue  # files that are not captures: covered by test_corpus
        assert len(ours) == len(refs), fid
        for ref, pkt in zip(refs, ours, strict=True):
            total += 1
            diff = differences(pkt, ref)
            key = (fid, ref["n"])
            if not diff:
                agree += 1
                continue
            if key not in listed:
                unexplained.append(
                    f"{fid} #{ref['n']}: {diff} tshark={ref['protocols']} netcore={pkt.layers}"
                )
                continue
            seen_listed.add(key)
            if sorted(listed[key][0]) != sorted(diff):
                wrong_diff.append(f"{fid} #{ref['n']}: listed {listed[key][0]}, now {diff}")
            explained += 1
    stale = sorted(set(listed) - seen_listed)
    print(
        f"tshark conformance: {agree}/{total} packets agree ({100 * agree / total:.2f}%), "
        f"{explained} differ for a listed reason"
    )
    assert not unexplained, "disagreements without a reason:\n" + "\n".join(unexplained[:30])
    assert not wrong_diff, "\n".join(wrong_diff[:30])
    assert not stale, f"listed disagreements that now agree (update the list): {stale[:30]}"
    assert agree / total > 0.97
