"""The netcore exception hierarchy.

``NetcoreError`` is the base of every error netcore raises on purpose. ``CaptureError`` names a
malformed capture: its ``path``, the byte ``offset`` of the fault and the ``reason``. Operating
system failures stay ``OSError`` subclasses (``FileNotFoundError``, ``PermissionError``, ...).
"""

from netcore._netcore import CaptureError, ConfigError, NetcoreError

__all__ = ["CaptureError", "ConfigError", "NetcoreError"]
