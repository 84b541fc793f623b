"""A progress bar on stderr for long reads, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Shows bytes read out of a known total (or packets read when the total is unknown).

    Draws at most ten times a second, and only on a terminal, so pipes and logs stay clean.
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._start = time.monotonic()
        self._drawn = False

    def update(self, position: int, packets: int) -> None:
        """Records progress; redraws when enough time has passed."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = packets / max(now - self._start, 1e-9)
        if self.total:
            frac = min(position / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = (
                f"\r{self.label} [{bar:<30}] {frac * 100:5.1f}%  "
                f"{packets:,} packets  {rate:,.0f} pkt/s"
            )
        else:
            text = f"\r{self.label} {packets:,} packets  {rate:,.0f} pkt/s"
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clears the bar."""
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
