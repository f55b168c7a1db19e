"""What ctc says on stderr while it works: notes, and one progress line on a terminal.

A *note* (``ctc: …``) is a permanent line, printed whatever stderr is. The *progress
line* shows the work in hand (starting Spark, a micro-batch and its phase, a back-test
stage), the events done, events/s and, when the total is known, an ETA. On a terminal
it is redrawn in place twice a second, so its elapsed time moves even while Spark is
busy, and it is cleared before each note and at the end. When stderr is not a terminal
(a pipe, a log file, a test) there is no progress line at all, only the notes.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
import weakref
from typing import TextIO

#: Erase the terminal's current line and go back to its start.
_CLEAR = "\r\x1b[K"

#: Every Progress of this process, so an error can erase their lines first.
_ALL: weakref.WeakSet[Progress] = weakref.WeakSet()


def duration(seconds: float) -> str:
    """``seconds`` for a person: ``8 s``, ``2 min 05 s``, ``1 h 02 min``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """Notes and a live progress line on ``stream`` (default: stderr).

    ``live`` (default: whether ``stream`` is a terminal) turns the progress line on.
    Calling the object prints a note, so it can be handed to code that takes a
    ``say(message)`` function.
    """

    def __init__(
        self, stream: TextIO | None = None, live: bool | None = None, interval: float = 0.5
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty()) if live is None else live
        self.interval = interval
        self._lock = threading.RLock()
        self._stage = ""
        self._stage_t0 = time.monotonic()
        self._unit = "events"
        self._total: int | None = None
        self._done = 0
        self._task_t0: float | None = None
        self._rate = True
        self._shown = False
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()
        _ALL.add(self)

    # -- what callers say ---------------------------------------------------------------
    def __call__(self, message: str) -> None:
        """Print ``ctc: message`` as a permanent line (above the progress line)."""
        self.note(message)

    def note(self, message: str) -> None:
        """Print ``ctc: message`` as a permanent line (above the progress line)."""
        with self._lock:
            self._erase()
            self.stream.write(f"ctc: {message}\n")
            self.stream.flush()
            self._draw()

    def task(self, total: int | None = None, unit: str = "events", rate: bool = True) -> None:
        """Start counting ``unit`` done, towards ``total`` when it is known (for the ETA);
        ``rate``: show units per second."""
        with self._lock:
            self._total, self._unit, self._done, self._rate = total, unit, 0, rate
            self._task_t0 = time.monotonic()
            self._draw()

    def stage(self, text: str) -> None:
        """Show ``text`` as the work in hand; its elapsed time starts now."""
        with self._lock:
            self._stage, self._stage_t0 = text, time.monotonic()
            self._draw()
        self._start_ticker()

    def advance(self, n: int) -> None:
        """Count ``n`` more units done."""
        with self._lock:
            self._done += n
            self._draw()

    def close(self) -> None:
        """Erase the progress line and stop redrawing it."""
        self._stopped.set()
        with self._lock:
            self._erase()
            self._stage = ""

    # -- the line -----------------------------------------------------------------------
    def line(self) -> str:
        """The progress line as it would be drawn now (without the terminal's controls)."""
        now = time.monotonic()
        parts = []
        if self._task_t0 is not None:
            done = f"{self._done:,}" + (f"/{self._total:,}" if self._total is not None else "")
            parts.append(f"{done} {self._unit}")
            elapsed = now - self._task_t0
            if self._done and elapsed > 0:
                rate = self._done / elapsed
                if self._rate:
                    parts.append(f"{rate:,.0f} {self._unit}/s")
                if self._total is not None and self._total > self._done:
                    parts.append(f"ETA {duration((self._total - self._done) / rate)}")
        # the figures first: a narrow terminal cuts the end of the line
        parts.append(f"{self._stage} ({duration(now - self._stage_t0)})")
        return "ctc: " + " · ".join(parts)

    def _draw(self) -> None:
        if not self.live or not self._stage or self._stopped.is_set():
            return
        width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
        self.stream.write(_CLEAR + self.line()[:width])
        self.stream.flush()
        self._shown = True

    def _erase(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._shown = False

    def _start_ticker(self) -> None:
        if not self.live or self._ticker is not None:
            return

        def tick() -> None:
            while not self._stopped.wait(self.interval):
                with self._lock:
                    self._draw()

        self._ticker = threading.Thread(target=tick, name="ctc-progress", daemon=True)
        self._ticker.start()


def close_all() -> None:
    """Erase every progress line of this process (before an error is printed)."""
    for progress in list(_ALL):
        progress.close()


def stderr_note(message: str) -> None:
    """Print ``ctc: message`` on stderr (a note, for code without a :class:`Progress`)."""
    print(f"ctc: {message}", file=sys.stderr, flush=True)
