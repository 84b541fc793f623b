"""netcore: a packet-processing engine with a Rust core, modelled on the Linux network stack.

Read captures as numpy batches::

    import netcore as nc
    for batch in nc.open("trace.pcapng"):
        big = batch[batch.caplen > 1000]
"""

from netcore._netcore import Rss, __version__, toeplitz
from netcore.batch import Batch, Packet
from netcore.capture import (
    Capture,
    CaptureInfo,
    Interface,
    Problem,
    Writer,
    open,
    write,
)
from netcore.exceptions import CaptureError, ConfigError, NetcoreError, RuleError
from netcore.namespace import DemuxReport, Namespace
from netcore.offload import OffloadReport, gro, gso
from netcore.rules import ACCEPT, DROP, JUMP, QUEUE, REPEAT, STOLEN, Priority, Ruleset
from netcore.stack import (
    Device,
    Features,
    HookBatch,
    HookError,
    HookPacket,
    RunReport,
    queue,
)

__all__ = [
    "ACCEPT",
    "DROP",
    "JUMP",
    "QUEUE",
    "REPEAT",
    "STOLEN",
    "Batch",
    "Capture",
    "CaptureError",
    "CaptureInfo",
    "ConfigError",
    "DemuxReport",
    "Device",
    "Features",
    "HookBatch",
    "HookError",
    "HookPacket",
    "Interface",
    "Namespace",
    "NetcoreError",
    "OffloadReport",
    "Packet",
    "Priority",
    "Problem",
    "Rss",
    "RuleError",
    "Ruleset",
    "RunReport",
    "Writer",
    "__version__",
    "gro",
    "gso",
    "open",
    "queue",
    "toeplitz",
    "write",
]
