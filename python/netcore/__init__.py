"""netcore: a packet-processing engine with a Rust core, modelled on the Linux network stack.

Read captures as numpy batches::

    import netcore as nc
    for batch in nc.open("trace.pcapng"):
        big = batch[batch.caplen > 1000]
"""

from netcore._netcore import __version__
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
from netcore.exceptions import CaptureError, ConfigError, NetcoreError
from netcore.namespace import DemuxReport, Namespace
from netcore.offload import OffloadReport, gro, gso
from netcore.stack import (
    ACCEPT,
    DROP,
    QUEUE,
    REPEAT,
    STOLEN,
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
    "Problem",
    "RunReport",
    "Writer",
    "__version__",
    "gro",
    "gso",
    "open",
    "queue",
    "write",
]
