"""The netcore exception hierarchy.

``NetcoreError`` is the base of every error netcore raises on purpose. ``CaptureError`` names a
malformed capture: its ``path``, the byte ``offset`` of the fault and the ``reason``. Operating
system failures stay ``OSError`` subclasses (``FileNotFoundError``, ``PermissionError``, ...).
``RuleError``, a ``ConfigError``, names the ``line`` and ``column`` of a rule that does not
parse, and the ``message`` saying what was expected there.
"""

from netcore._netcore import CaptureError, ConfigError, NetcoreError, RuleError

__all__ = ["CaptureError", "ConfigError", "NetcoreError", "RuleError"]
