"""Native rules, verdict codes and hook priorities.

A :class:`Ruleset` holds rules in netcore's nft-like language, one per line::

    rules = Ruleset('''
        ip saddr 10.0.0.0/8 tcp dport {22, 80-90} drop
        iif "eth0" meta mark set 7 counter
    ''', devices={"eth0": 1})
    verdicts = rules.eval_batch(batch)      # int32 codes: DROP, ACCEPT, ...

Verdict codes are the kernel's ``NF_*`` values; ``JUMP`` marks a jump to an external hook.
Priorities are the kernel's ``enum nf_ip_hook_priorities``, under nft's names where it has one.
"""

from enum import IntEnum

from netcore._netcore import (
    ACCEPT,
    DROP,
    JUMP,
    PRIORITIES,
    QUEUE,
    REPEAT,
    STOLEN,
    Ruleset,
    parse_priority,
)

__all__ = [
    "ACCEPT",
    "DROP",
    "JUMP",
    "QUEUE",
    "REPEAT",
    "STOLEN",
    "Priority",
    "Ruleset",
    "parse_priority",
]


class Priority(IntEnum):
    """Hook priorities: lower runs first (``NF_IP_PRI_*``; nft's ``raw`` … ``srcnat``)."""

    FIRST = PRIORITIES["first"]
    RAW_BEFORE_DEFRAG = PRIORITIES["raw_before_defrag"]
    CONNTRACK_DEFRAG = PRIORITIES["conntrack_defrag"]
    RAW = PRIORITIES["raw"]
    SELINUX_FIRST = PRIORITIES["selinux_first"]
    CONNTRACK = PRIORITIES["conntrack"]
    MANGLE = PRIORITIES["mangle"]
    DSTNAT = PRIORITIES["dstnat"]
    FILTER = PRIORITIES["filter"]
    SECURITY = PRIORITIES["security"]
    SRCNAT = PRIORITIES["srcnat"]
    SELINUX_LAST = PRIORITIES["selinux_last"]
    CONNTRACK_HELPER = PRIORITIES["conntrack_helper"]
    LAST = PRIORITIES["last"]
