"""What a run is doing, as it does it: each stage's start and end (elapsed seconds, rows), each check.

The stages report through the standard logger `registry.progress`; nothing is shown unless someone
listens: `registry run` prints these lines on stderr (not with --quiet), a Dagster daemon's run does not.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger("registry.progress")


def stage_started(stage: str) -> None:
    log.info("%s started", stage, extra={"stage": stage, "event": "start"})


def stage_finished(stage: str, seconds: float, rows: tuple[int, str] | None = None) -> None:
    figure = f": {rows[0]:,} {rows[1]}" if rows is not None and rows[0] is not None else ""
    log.info("%s done in %.1f s%s", stage, seconds, figure, extra={"stage": stage, "event": "end",
                                                                  "seconds": seconds})


def stage_failed(stage: str, seconds: float, error: BaseException) -> None:
    log.info("%s failed after %.1f s (%s)", stage, seconds, type(error).__name__,
             extra={"stage": stage, "event": "failed", "seconds": seconds})


def note(message: str) -> None:
    log.info("%s", message, extra={"event": "note"})


class _Printer(logging.Handler):
    def __init__(self, stream: TextIO, started: float):
        super().__init__(logging.INFO)
        self.stream, self.started = stream, started

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(f"[{time.monotonic() - self.started:7.1f} s] {record.getMessage()}\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the night
            pass


class printed:
    """`with progress.printed():` the lines above go to stderr (elapsed seconds since entering)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self._handler = _Printer(stream or sys.stderr, time.monotonic()) if enabled else None
        self._level = log.level

    def __enter__(self) -> "printed":
        if self._handler is not None:
            log.addHandler(self._handler)
            log.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc) -> None:
        if self._handler is not None:
            log.removeHandler(self._handler)
            log.setLevel(self._level)
