"""The background thread that writes steps to the file while training goes on.

Training puts snapshots on a bounded queue; this thread takes them off and calls
`RecordingWriter.append` (which also computes the summaries). When the queue is full, training
waits for the disk (back-pressure), so memory never grows with the number of steps. The thread
commits at least every `commit_interval` seconds, even when steps come slowly. The first error
stops the writing for good: it is kept in `error`, the writer is abandoned (what was committed
stays readable), and later items are dropped so that no producer ever blocks.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from weightreel.formats import RecordingWriter

_CLOSE = "close"


class BackgroundWriter:
    """Runs a RecordingWriter on a daemon thread behind a queue of at most `max_items` steps."""

    def __init__(self, writer: RecordingWriter, max_items: int = 4) -> None:
        self.writer = writer
        self.error: BaseException | None = None
        self.closed = False
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(max_items)))
        self._interval = max(0.01, writer.commit_interval)
        self._last_commit = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="weightreel-writer", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- producer side
    def append(self, arrays: Mapping[str, Any], **kwargs: Any) -> None:
        """Queue one step (see RecordingWriter.append); waits while the queue is full."""
        self._put(("append", arrays, kwargs))

    def append_epoch(self, epoch: int, logs: Mapping[str, Any]) -> None:
        self._put(("append_epoch", epoch, dict(logs)))

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        self._put(("update_metadata", dict(metadata)))

    def close(self, finished: bool = True, timeout: float | None = None,
              discard: bool = False) -> None:
        """Write what is queued, then close the file (or abandon it after an error, or when
        `discard`: a new file that was never committed is then removed)."""
        if self.closed:
            return
        self.closed = True
        self._queue.put((_CLOSE, finished, discard))
        self._thread.join(timeout)

    def _put(self, item: tuple) -> None:
        if self.closed:
            raise RuntimeError("the background writer is closed")
        self._queue.put(item)

    # ----------------------------------------------------------------- thread side
    def _run(self) -> None:
        while True:
            wait = self._interval - (time.monotonic() - self._last_commit)
            try:
                item = self._queue.get(timeout=max(0.001, wait))
            except queue.Empty:
                self._guarded(self._commit)
                continue
            if item[0] == _CLOSE:
                self._finish(item[1], item[2])
                return
            if self.error is None:
                self._guarded(self._handle, item)
                if time.monotonic() - self._last_commit >= self._interval:
                    self._guarded(self._commit)

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "append":
            self.writer.append(item[1], **item[2])
        elif kind == "append_epoch":
            self.writer.append_epoch(item[1], item[2])
        elif kind == "update_metadata":
            self.writer.update_metadata(item[1])

    def _commit(self) -> None:
        self._last_commit = time.monotonic()
        if self.error is None:
            self.writer.commit()

    def _guarded(self, fn, *args) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - kept and reported to the training side
            self.error = exc
            self.writer.abandon()

    def _finish(self, finished: bool, discard: bool) -> None:
        if self.error is None and not discard:
            self._guarded(self.writer.close, finished)
        else:
            self.writer.abandon()
