"""WeightReelTrainerCallback: record a Hugging Face `Trainer`'s model during training."""

from __future__ import annotations

import os
from typing import Any

from transformers import TrainerCallback

from ._array_recorder import check_every
from .torch_recorder import TorchRecorder


class WeightReelTrainerCallback(TrainerCallback):
    """A `transformers` TrainerCallback that records the model after every `every`-th step.

    Row 0 is the model when training begins; then a row at `on_step_end` (after each
    optimizer step, gradient accumulation counted as the Trainer counts it) whose step is
    `state.global_step`, with the optimizer's learning rates. (The Trainer hands callbacks no
    per-step loss; its logged loss, averaged over `logging_steps`, stays in its own logs.)
    Only the world's process zero writes.

    Args:
        filepath: the recording file to write (HDF5).
        every: record after every N-th optimizer step.
        **options: passed to `TorchRecorder` (float16, compression, strict, notes, ...).

    Example:
        >>> from weightreel.recorder.hf_callback import WeightReelTrainerCallback
        >>> callback = WeightReelTrainerCallback("/tmp/hf_example.h5", every=10)
        >>> # Trainer(model=model, args=args, train_dataset=data, callbacks=[callback]).train()
    """

    def __init__(self, filepath: str | os.PathLike, every: int = 1, **options: Any) -> None:
        check_every(every)
        self.filepath = os.fspath(filepath)
        self.every = every
        self.options = options
        self.recorder: TorchRecorder | None = None

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._close(finished=False)
        if state.is_world_process_zero and model is not None:
            self.recorder = TorchRecorder(model, self.filepath, optimizer, on_step=False,
                                          **self.options)

    def on_step_end(self, args, state, control, **kwargs):
        if self.recorder is not None and state.global_step % self.every == 0:
            self.recorder.record(step=state.global_step, epoch=int(state.epoch or 0))

    def on_train_end(self, args, state, control, **kwargs):
        self._close(finished=True)

    def _close(self, finished: bool) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close(finished)
