"""TorchRecorder: record a PyTorch model's parameters and buffers after optimizer steps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from ._array_recorder import DEFAULT_QUEUE_BYTES, ArrayRecorder, check_every, numbers_of
from ._metadata import json_safe, versions
from ._snapshot import StepCopies
from ._torch_state import (
    copy_off,
    gather_full,
    is_rank_zero,
    is_sharded,
    learning_rates,
    model_entries,
)


class TorchRecorder:
    """Record every parameter and buffer of a `torch.nn.Module`, step after step.

    Row 0 is the model as it is when the recorder is made. With an `optimizer`, a row is then
    recorded after every `every`-th `optimizer.step()` (through `register_step_post_hook`):
    steps that a `GradScaler` skips and gradient-accumulation micro-steps call no `step()`
    and are left out. Without one, call `record()` yourself.

    Names are the state_dict keys with `/` for `.` (`features/conv1/weight`), without the
    `module.` of DDP and DataParallel or torch.compile's `_orig_mod.`; tied weights are
    recorded once. The layer is the module path, the class the module's class, the role the
    last part of the key (`weight`, `bias`, `running_mean`, ...); buffers are not trainable.
    Each conv and linear weight carries its axis layout (`oihw`, `oi`, ...).

    Values are copied off the device into fresh host memory (pinned for GPU tensors, one wait
    per step) and written by a background thread; bfloat16 is stored as float32 (exact), the
    file noting the original dtype. Under torch.distributed only rank 0 writes; the other
    ranks' recorders do nothing, except under FSDP: there every rank must make a recorder
    with the same `every`, since each recorded step gathers the full parameters from all
    ranks (a collective; rank 0 receives them on its CPU).

    Recording never breaks training: a problem warns once (`RecordingWarning`) and stops the
    recording; `strict=True` raises `weightreel.formats.RecordingError` instead.

    Args:
        model: the module to record (a DDP, DataParallel or compiled module is fine).
        filepath: the recording file to write (HDF5).
        optimizer: record after its steps, and store its param groups' learning rates.
        every: record after every N-th optimizer step.
        on_step: record after optimizer steps; with False, only `record()` records (the
            optimizer still gives the learning rates), as the Lightning callback does.
        float16: store floating-point values as float16, halving the file.
        compression: None (fastest), "lzf" or "gzip".
        commit_interval: seconds between commits; a crash loses at most this much.
        metadata: extra run metadata. notes: free text. hyperparameters: a dict.
        strict: raise instead of warning when recording fails.
        max_queue_bytes: memory for steps waiting to be written.

    Example:
        >>> import torch
        >>> from weightreel.recorder import TorchRecorder
        >>> model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
        ...                             torch.nn.Linear(4, 1))
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> x, y = torch.randn(64, 2), torch.randn(64, 1)
        >>> with TorchRecorder(model, "/tmp/torch_example.h5", optimizer=opt) as recorder:
        ...     for i in range(0, 64, 16):
        ...         loss = torch.nn.functional.mse_loss(model(x[i:i + 16]), y[i:i + 16])
        ...         opt.zero_grad()
        ...         loss.backward()
        ...         recorder.log(loss=loss)  # stored on the row of the coming step
        ...         opt.step()
        >>> from weightreel.formats import open_recording
        >>> open_recording("/tmp/torch_example.h5").num_steps  # initial + 4 steps
        5
    """

    def __init__(
        self,
        model: torch.nn.Module,
        filepath: str | os.PathLike,
        optimizer: torch.optim.Optimizer | None = None,
        every: int = 1,
        *,
        on_step: bool = True,
        float16: bool = False,
        compression: str | None = None,
        commit_interval: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
        notes: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        strict: bool = False,
        max_queue_bytes: int = DEFAULT_QUEUE_BYTES,
    ) -> None:
        check_every(every)
        self.every = every
        self.optimizer = optimizer
        self.steps_done = 0  # optimizer steps since the recorder was made
        self.epoch = 0  # set it to number the rows' epochs
        self._pending: dict[str, float] = {}
        self._entries = model_entries(model)
        self._model = model
        self._sharded = is_sharded(model)  # FSDP: every rank joins each gather
        meta = _metadata(model, optimizer, metadata, notes, hyperparameters)
        self._out = ArrayRecorder(
            filepath, {e.name: e.spec for e in self._entries}, meta, writes=is_rank_zero(),
            float16=float16, compression=compression, commit_interval=commit_interval,
            strict=strict, max_queue_bytes=max_queue_bytes)
        self._copies = StepCopies(self._out.buffer_steps)
        self.filepath = self._out.filepath
        self.variable_names = self._out.variable_names
        self._hook = None
        if self._out.active or self._sharded:
            self.record(step=0, batch=-1)
            self._out.commit()  # the file exists under its name before the first step
            if optimizer is not None and on_step:
                self._hook = optimizer.register_step_post_hook(self._after_step)

    @property
    def active(self) -> bool:
        """Whether this process is recording (rank 0, and no problem stopped it)."""
        return self._out.active

    @property
    def error(self) -> BaseException | None:
        return self._out.error

    def log(self, **scalars: Any) -> None:
        """Scalars (tensors or numbers) for the row of the next recorded step, e.g. the loss."""
        if self._out.active:
            self._pending.update(numbers_of(scalars))

    def record(self, step: int | None = None, epoch: int | None = None,
               batch: int | None = None, scalars: Mapping[str, Any] | None = None) -> bool:
        """Record the model now, with the logged scalars and the learning rates.

        `step` defaults to the optimizer steps done so far. Returns False if recording stopped.
        """
        if not (self._out.active or self._sharded):
            return False
        try:
            if self._sharded:  # before any early return: the other ranks wait for this one
                tensors = gather_full(self._model, self._entries)
            else:
                tensors = [e.tensor for e in self._entries]
            if not self._out.active:
                return False
            arrays = copy_off(tensors, self._copies)
        except Exception as exc:  # noqa: BLE001 - a tensor that cannot be read stops recording
            return self._out.snapshot_failed(exc)
        values = {**learning_rates(self.optimizer), **self._pending, **numbers_of(scalars)}
        self._pending = {}
        step = self.steps_done if step is None else int(step)
        return self._out.write(dict(zip(self.variable_names, arrays, strict=True)), step,
                               self.epoch if epoch is None else epoch,
                               step - 1 if batch is None else batch, values, copy=False)

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self.steps_done += 1
        if self.steps_done % self.every == 0:
            self.record()

    def close(self, finished: bool = True) -> None:
        """Stop recording: write what is queued and close the file. Safe to call twice."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self._out.close(finished)

    def __enter__(self) -> TorchRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(finished=exc_type is None)


def _metadata(model, optimizer, metadata, notes, hyperparameters) -> dict[str, Any]:
    inner = getattr(model, "module", model)
    inner = getattr(inner, "_orig_mod", inner)
    meta: dict[str, Any] = {"framework": "torch", "framework_version": torch.__version__,
                            "versions": versions("torch"), "model_name": type(inner).__name__}
    if optimizer is not None:
        meta["optimizer_config"] = json_safe({"class_name": type(optimizer).__name__,
                                              **getattr(optimizer, "defaults", {})})
    meta.update(metadata or {})
    if notes is not None:
        meta["notes"] = notes
    if hyperparameters is not None:
        meta["hyperparameters"] = json_safe(dict(hyperparameters))
    return meta
