"""A one-line progress bar for long operator commands."""

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(
        self, label: str, stream: TextIO = sys.stderr, width: int = 30, unit: str = "events"
    ) -> None:
        self._label = label
        self._unit = unit
        self._stream = stream
        self._width = width
        self._started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = round(share * self._width)
        rate = done / max(time.perf_counter() - self._started, 1e-9)
        self._stream.write(
            f"\r{self._label} [{'#' * filled}{' ' * (self._width - filled)}] "
            f"{share:6.1%} {done}/{total} {self._unit}, {rate:,.0f}/s"
        )
        self._stream.flush()

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()
