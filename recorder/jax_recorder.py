"""JaxRecorder: record a JAX pytree of parameters (Flax linen, Flax NNX, Optax) step by step."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax

from . import _jax_tree as T
from ._array_recorder import DEFAULT_QUEUE_BYTES, ArrayRecorder, check_every
from ._metadata import json_safe, versions
from ._snapshot import StepCopies


class JaxRecorder:
    """Record any pytree of arrays (a model's parameters and state) at chosen steps.

    The first `record` fixes the variables: their names are the tree's paths
    (`params/Dense_0/kernel`, NNX's `lin/kernel` without its trailing `/value`), in the
    model's order where the tree or `model` gives one (Flax linen's variable dicts keep it;
    for NNX pass the module as `model`). Later trees are read by those paths, so a
    `jax.tree_util` map that sorted the keys changes nothing.

    With Flax collections at the top of the tree, only `params` is trainable, and every other
    collection (`batch_stats`) is layered under its module beside the module's parameters.
    In NNX state, `Param` variables are trainable and `BatchStat` ones are not.

    Values are copied to the host (never views of device buffers, which a donating train step
    reuses) and written by a background thread. Only `jax.process_index() == 0` writes.
    A recording problem warns once and stops recording; `strict=True` raises instead.

    Args:
        filepath: the recording file to write (HDF5).
        every: record only steps that are multiples of it (step 0 included).
        model: an NNX module, to give its variables' order and its modules' classes.
        float16: store floating-point values as float16, halving the file.
        compression: None (fastest), "lzf" or "gzip".
        commit_interval: seconds between commits; a crash loses at most this much.
        metadata: extra run metadata. notes: free text. hyperparameters: a dict.
        strict: raise instead of warning when recording fails.
        max_queue_bytes: memory for steps waiting to be written.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from weightreel.recorder import JaxRecorder
        >>> params = {"dense": {"kernel": jnp.ones((2, 1)), "bias": jnp.zeros(1)}}
        >>> loss = lambda p, x: jnp.mean((x @ p["dense"]["kernel"] + p["dense"]["bias"]) ** 2)
        >>> with JaxRecorder("/tmp/jax_example.h5") as recorder:
        ...     for step in range(4):
        ...         value, grads = jax.value_and_grad(loss)(params, jnp.ones((8, 2)))
        ...         _ = recorder.record(step, params, scalars={"loss": value})
        ...         params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        >>> from weightreel.formats import open_recording
        >>> open_recording("/tmp/jax_example.h5").variable_names
        ['dense/kernel', 'dense/bias']
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        every: int = 1,
        *,
        model: Any = None,
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
        self.filepath = os.fspath(filepath)
        self.every = every
        self.strict = strict
        self.variable_names: list[str] = []
        self._order, self._classes = T.model_order(model) if model is not None else ([], {})
        self._options = {"float16": float16, "compression": compression,
                         "commit_interval": commit_interval, "strict": strict,
                         "max_queue_bytes": max_queue_bytes}
        self._meta = _metadata(model, metadata, notes, hyperparameters)
        self._writes = jax.process_index() == 0
        self._out: ArrayRecorder | None = None
        self._copies: StepCopies | None = None
        self._closed = False

    @property
    def active(self) -> bool:
        """Whether this process records (process 0, not closed, and no problem stopped it)."""
        return self._writes and not self._closed and (self._out is None or self._out.active)

    @property
    def error(self) -> BaseException | None:
        return self._out.error if self._out is not None else None

    def record(self, step: int, tree: Any, scalars: Mapping[str, Any] | None = None,
               epoch: int | None = None) -> bool:
        """Record `tree` as global step `step` (if `step` is a multiple of `every`), with
        `scalars` (numbers or JAX scalars). Returns False when recording has stopped."""
        if not self.active:
            return False
        if int(step) % self.every:
            return True
        try:
            found = {leaf.name: leaf.value for leaf in T.leaves(tree)}
            if self._out is None:
                self._start(tree)
                if not self._out.active:
                    return False
            arrays = T.copy_off([found[name] for name in self.variable_names], self._copies)
            for name, array in zip(self.variable_names, arrays, strict=True):
                if array.shape != self._shapes[name]:
                    raise ValueError(f"{name} has shape {array.shape}, recorded "
                                     f"{self._shapes[name]}")
        except Exception as exc:  # noqa: BLE001 - a tree that cannot be read stops recording
            if self._out is None:
                self._out = ArrayRecorder(self.filepath, {}, {}, writes=False)
                self._closed = True
                self._out._fail(exc)
                return False
            return self._out.snapshot_failed(exc)
        first = self._out.last_step < 0
        written = self._out.write(dict(zip(self.variable_names, arrays, strict=True)),
                                  int(step), epoch, None, scalars, copy=False)
        if written and first:  # the file exists under its name from the first row on
            written = self._out.commit()
        return written

    def _start(self, tree: Any) -> None:
        found = T.ordered(T.leaves(tree), self._order)
        specs = T.specs(found, self._classes)
        self.variable_names = list(specs)
        self._shapes = {name: spec.shape for name, spec in specs.items()}
        self._out = ArrayRecorder(self.filepath, specs, self._meta, **self._options)
        self._copies = StepCopies(self._out.buffer_steps)

    def close(self, finished: bool = True) -> None:
        """Write every queued step and close the file. Safe to call more than once."""
        self._closed = True
        if self._out is not None:
            self._out.close(finished)

    def __enter__(self) -> JaxRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(finished=exc_type is None)


def _metadata(model, metadata, notes, hyperparameters) -> dict[str, Any]:
    found = versions("jax", "flax", "optax")
    meta: dict[str, Any] = {"framework": "jax", "framework_version": found.get("jax", ""),
                            "versions": found}
    if model is not None:
        meta["model_name"] = type(model).__name__
    meta.update(metadata or {})
    if notes is not None:
        meta["notes"] = notes
    if hyperparameters is not None:
        meta["hyperparameters"] = json_safe(dict(hyperparameters))
    return meta
