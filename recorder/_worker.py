"""The background thread that writes steps to the file while training goes on.

Training puts snapshots in a bounded queue; this thread takes them out and calls
`RecordingWriter.append_many` (which also computes the summaries). When `max_items` steps are
waiting, training waits for the disk (back-pressure), so memory never grows with the number of
steps. The thread commits at least every `commit_interval` seconds, even when steps come
slowly. The first error stops the writing for good: it is kept in `error`, the writer is
abandoned (what was committed stays readable), and later items are dropped so that no
producer ever blocks.

Steps are written in blocks of up to `block_steps(bytes of a step)`. For a small model most of
a step's cost is calls into numpy and HDF5, not data: a block of 16 pays them once. The thread
is woken only when a block is waiting, a commit is due or another request comes: waking it
for every step (a thread switch and a hand-over of the interpreter lock each time) cost
training as much as the writing. A step's rows only become visible at a commit anyway. A
large model's steps are written one by one.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from weightreel.formats import RecordingWriter

_CLOSE = "close"
_COMMIT = "commit"
_APPEND = "append"
BLOCK_BYTES = 16 << 20  # a block of steps holds at most about this much
BLOCK_STEPS = 16  # and at most this many steps


def block_steps(step_bytes: int) -> int:
    """How many steps of `step_bytes` the writer gathers before writing them."""
    return max(1, min(BLOCK_STEPS, BLOCK_BYTES // max(1, step_bytes)))


class BackgroundWriter:
    """Runs a RecordingWriter on a daemon thread behind a queue of at most `max_items` steps."""

    def __init__(self, writer: RecordingWriter, max_items: int = 4) -> None:
        self.writer = writer
        self.error: BaseException | None = None
        self.closed = False
        self._items: collections.deque = collections.deque()
        self._appends = 0  # steps waiting in _items
        self._requests = 0  # other items waiting in _items (they wake the thread at once)
        self._capacity = max(1, int(max_items))
        self._wake_at = 0  # steps that wake the thread: a block (set by the first step)
        lock = threading.Lock()
        self._ready = threading.Condition(lock)  # the thread waits here for work
        self._space = threading.Condition(lock)  # producers wait here while the queue is full
        self._interval = max(0.01, writer.commit_interval)
        self._last_commit = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="weightreel-writer", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- producer side
    def append(self, arrays: Mapping[str, Any], **kwargs: Any) -> None:
        """Queue one step (see RecordingWriter.append); waits while the queue is full."""
        self._put((_APPEND, arrays, kwargs))

    def append_epoch(self, epoch: int, logs: Mapping[str, Any]) -> None:
        self._put(("append_epoch", epoch, dict(logs)))

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        self._put(("update_metadata", dict(metadata)))

    def commit(self, timeout: float | None = None) -> None:
        """Write what is queued and commit it, then return (after `timeout` s at most)."""
        done = threading.Event()
        self._put((_COMMIT, done))
        done.wait(timeout)

    def close(self, finished: bool = True, timeout: float | None = None,
              discard: bool = False) -> None:
        """Write what is queued, then close the file (or abandon it after an error, or when
        `discard`: a new file that was never committed is then removed)."""
        if self.closed:
            return
        self._put((_CLOSE, finished, discard))
        self.closed = True
        self._thread.join(timeout)

    def _put(self, item: tuple) -> None:
        if self.closed:
            raise RuntimeError("the background writer is closed")
        with self._ready:
            if item[0] == _APPEND:
                if not self._wake_at:
                    self._wake_at = min(self._capacity, block_steps(_nbytes(item[1])))
                while self._appends >= self._capacity:
                    self._space.wait()
                self._appends += 1
            else:
                self._requests += 1
            self._items.append(item)
            if self._requests or self._appends >= self._wake_at:
                self._ready.notify()

    # ----------------------------------------------------------------- thread side
    def _take(self, timeout: float) -> list[tuple]:
        """Everything queued, once a block or a request is waiting or after `timeout` s."""
        with self._ready:
            self._ready.wait_for(  # _wake_at is 0 until the first step: no empty wake-ups
                lambda: self._requests or self._appends >= max(1, self._wake_at),
                max(0.001, timeout))
            items = list(self._items)
            self._items.clear()
            self._appends = self._requests = 0
            self._space.notify_all()
        return items

    def _run(self) -> None:
        block: list[tuple] = []  # steps gathered, not yet written
        while True:
            for item in self._take(self._interval - (time.monotonic() - self._last_commit)):
                if item[0] == _APPEND:
                    block.append(item[1:])
                    if len(block) >= self._wake_at:
                        self._write_block(block)
                    continue
                self._write_block(block)
                if item[0] == _CLOSE:
                    self._finish(item[1], item[2])
                    return
                if item[0] == _COMMIT:
                    self._guarded(self._commit)
                    item[1].set()  # also after an error: the caller must not wait forever
                elif self.error is None:
                    self._guarded(self._handle, item)
            if time.monotonic() - self._last_commit >= self._interval:
                self._write_block(block)
                self._guarded(self._commit)

    def _write_block(self, block: list[tuple]) -> None:
        """Write the gathered steps (then forget them, also after an error)."""
        if block and self.error is None:
            self._guarded(self._append_many, block)
        block.clear()

    def _append_many(self, block: list[tuple]) -> None:
        steps = [(arrays, {k: v for k, v in kwargs.items() if k != "copy"})
                 for arrays, kwargs in block]
        self.writer.append_many(steps, copy=all(kw.get("copy", True) for _, kw in block))

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "append_epoch":
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
            self.error = getattr(self.writer, "io_error", None) or exc
            self.writer.abandon()

    def _finish(self, finished: bool, discard: bool) -> None:
        if self.error is None and not discard:
            self._guarded(self.writer.close, finished)
        else:
            self.writer.abandon()


def _nbytes(arrays: Mapping[str, Any]) -> int:
    return sum(np.asarray(a).nbytes for a in arrays.values())
