"""WeightReelCallback: record a LightningModule's parameters and buffers during `fit`."""

from __future__ import annotations

import os
from typing import Any

import lightning.pytorch as pl

from ._array_recorder import check_every
from .torch_recorder import TorchRecorder


class WeightReelCallback(pl.Callback):
    """A Lightning callback that records the module after every `every`-th optimizer step.

    Steps are counted by `trainer.global_step` (optimizer steps, so gradient accumulation's
    micro-batches are not rows); row 0 is the module when training starts. Each row carries
    the training step's loss and the first optimizer's learning rates. Only global rank zero
    writes. Names, roles, layouts and the rest are TorchRecorder's.

    Args:
        filepath: the recording file to write (HDF5).
        every: record after every N-th optimizer step.
        **options: passed to `TorchRecorder` (float16, compression, strict, notes, ...).

    Example:
        >>> import lightning.pytorch as pl, torch
        >>> from weightreel.recorder.lightning_callback import WeightReelCallback
        >>> class Net(pl.LightningModule):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.layer = torch.nn.Linear(2, 1)
        ...     def training_step(self, batch, batch_idx):
        ...         return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])
        ...     def configure_optimizers(self):
        ...         return torch.optim.SGD(self.parameters(), lr=0.1)
        >>> data = torch.utils.data.TensorDataset(torch.randn(32, 2), torch.randn(32, 1))
        >>> trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
        ...                      enable_progress_bar=False, enable_model_summary=False,
        ...                      callbacks=[WeightReelCallback("/tmp/lightning_example.h5")])
        >>> trainer.fit(Net(), torch.utils.data.DataLoader(data, batch_size=8))
        >>> from weightreel.formats import open_recording
        >>> open_recording("/tmp/lightning_example.h5").num_steps  # initial + 4 steps
        5
    """

    def __init__(self, filepath: str | os.PathLike, every: int = 1, **options: Any) -> None:
        super().__init__()
        check_every(every)
        self.filepath = os.fspath(filepath)
        self.every = every
        self.options = options
        self.recorder: TorchRecorder | None = None
        self._last = -1

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close(finished=False)
        if not trainer.is_global_zero:
            return
        optimizer = trainer.optimizers[0] if trainer.optimizers else None  # learning rates
        self.recorder = TorchRecorder(pl_module, self.filepath, optimizer, on_step=False,
                                      **self.options)
        self._last = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if self.recorder is None or step == self._last:
            return  # an accumulation micro-batch: no optimizer step
        self._last = step
        if step % self.every == 0:
            loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
            self.recorder.record(step=step, epoch=trainer.current_epoch, batch=batch_idx,
                                 scalars={"loss": loss} if loss is not None else None)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close(finished=True)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                     exception: BaseException) -> None:
        self._close(finished=False)

    def _close(self, finished: bool) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close(finished)
