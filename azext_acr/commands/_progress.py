"""Transfer status on stderr for artifact commands: oras' status lines, and a progress bar on a TTY."""

from __future__ import annotations

import os
import sys
import threading
import time


class Reporter:
    """Per-blob status on stderr: oras' lines ("Uploading <12 hex> <name>"), plus one progress line
    redrawn in place when stderr is a terminal. Thread-safe; stdout is left to the result."""

    def __init__(self, verb: str, total: int = 0):
        self._lock = threading.Lock()
        self._tty = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        self._verb = verb
        self._total = total
        self._done = 0
        self._start = time.monotonic()
        self._drawn = 0.0

    def add_total(self, size: int) -> None:
        with self._lock:
            self._total += size

    def status(self, word: str, digest: str, name: str) -> None:
        with self._lock:
            self._clear()
            print(f"{word:<11} {digest[7:19]} {name}", file=sys.stderr, flush=True)
            self._draw(force=True)

    def resumer(self, digest: str, name: str):
        """An ``on_resume`` callback for the OCI API: one status line per resumed transfer."""
        return lambda offset, reason: self.status("Resuming", digest, f"{name} at byte {offset} ({reason})")

    def advance(self, count: int) -> None:
        with self._lock:
            self._done += count
            self._draw()

    def finish(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        if self._tty and self._drawn:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self._tty or not self._total or (not force and now - self._drawn < 0.1):
            return
        done = max(0, min(self._done, self._total))
        width = 30
        filled = int(width * done / self._total)
        rate = done / max(now - self._start, 1e-6) / 1e6
        sys.stderr.write(f"\r{self._verb} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{human_size(done)}/{human_size(self._total)} {rate:.1f} MB/s")
        sys.stderr.flush()
        self._drawn = now


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GiB"
