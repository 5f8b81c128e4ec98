"""describe(rec): a plain-text summary of a recording, as `weightreel info` prints it."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from typing import Any

import numpy as np

from . import _layout as L
from ._reading import file_errors
from ._text import printable, printable_lines
from .health import Health, check_health
from .reader import Recording, VariableInfo

LAYER_KEYS = ("units", "filters", "kernel_size", "strides", "pool_size", "activation", "rate",
              "padding", "use_bias", "batch_shape", "batch_input_shape", "input_dim",
              "output_dim", "target_shape")
MAX_LAYERS = 40
MAX_TEXT_LINES = 12
MAX_VARIABLES = 200  # lines: a file with a million variables gets a bounded listing
MAX_NAMES = 60


def describe(rec: Recording) -> str:
    """Everything needed to understand a recording without the script that made it."""
    with file_errors(rec.path):
        sections = [_run(rec), _model(rec), _variables(rec), _steps(rec), _scalars(rec),
                    _health(rec)]
    return printable_lines("\n\n".join(s for s in sections if s)) + "\n"


# --------------------------------------------------------------------------- run
def _run(rec: Recording) -> str:
    meta = {k: printable(v) if isinstance(v, str) else v for k, v in rec.metadata.items()}
    lines = [f"Recording {rec.path}",
             f"  format      weightreel {rec.format_version}, created {_clip(rec.created)}"
             f" by {_clip(rec.creator) or 'unknown'}"]
    framework = " ".join(x for x in (meta.get("framework"), meta.get("framework_version")) if x)
    lines.append(f"  framework   {framework or 'not recorded'}"
                 + (f" on host {meta['host']}" if meta.get("host") else ""))
    lines.append(f"  started     {meta.get('started') or '?'}")
    lines.append(f"  ended       {meta.get('ended') or '-'}")
    lines.append(f"  status      {_status(rec)}")
    if rec.float16_overflow_step is not None:
        lines.append(f"  OVERFLOW    float16 overflow from step {rec.float16_overflow_step}: "
                     "values beyond ±65504 are stored as inf")
    versions = meta.get("versions")
    if versions:
        lines.append(f"  versions    {_document(versions)}")
    source = meta.get("source")
    if source:
        lines.append(f"  source      {_document(source)}")
    return "\n".join(lines)


def _status(rec: Recording) -> str:
    if rec.finished:
        return "finished"
    if rec.metadata.get("ended"):
        return "closed without finishing (the run stopped with an error)"
    return "not finished: still being written, or the run crashed before closing"


# --------------------------------------------------------------------------- model
def _model(rec: Recording) -> str:
    meta = rec.metadata
    lines = [f"Model {_clip(str(meta.get('model_name') or '(unnamed)'))}"]
    config = meta.get("model_config")
    if config:
        lines += _layers(config)
    if meta.get("optimizer_config"):
        lines.append(f"  optimizer   {_document(meta['optimizer_config'])}")
    if meta.get("hyperparameters"):
        lines.append(f"  hyperparams {_document(_hyperparameters(meta['hyperparameters']))}")
    if meta.get("notes"):
        notes = str(meta["notes"])[:64 * 1024].strip().splitlines()
        lines.append("  notes       " + (_clip(notes[0]) if notes else ""))
        lines += ["              " + _clip(n) for n in notes[1:MAX_TEXT_LINES]]
        if len(notes) > MAX_TEXT_LINES:
            lines.append(f"              ... ({len(notes) - MAX_TEXT_LINES} more lines)")
    extra = meta.get("extra")
    if extra:
        lines.append(f"  extra       {_document(extra)}")
    if len(lines) == 1:
        lines.append("  no model description was recorded")
    return "\n".join(lines)


def _hyperparameters(values: Any) -> Any:
    """Keras' fit parameters name the batches of one epoch `steps`: say so, as it reads like
    the total. Applies when `steps` comes with `epochs` (the fit parameters)."""
    if not isinstance(values, dict) or "steps" not in values or "epochs" not in values:
        return values
    return {("steps per epoch" if k == "steps" else k): v for k, v in values.items()}


def _layers(config: Any) -> list[str]:
    layers = _find_layers(config)
    if layers is None:
        return [f"  config      {_document(config)}"]
    kind = config.get("class_name", "") if isinstance(config, dict) else ""
    lines = [f"  layers      {len(layers)}" + (f" ({kind})" if kind else "")]
    for layer in layers[:MAX_LAYERS]:
        lines.append("    " + _layer_line(layer))
    if len(layers) > MAX_LAYERS:
        lines.append(f"    ... ({len(layers) - MAX_LAYERS} more)")
    return lines


def _find_layers(config: Any) -> list[Any] | None:
    """The layer list of a Keras-style model config ({"config": {"layers": [...]}})."""
    if not isinstance(config, dict):
        return None
    for holder in (config, config.get("config")):
        if isinstance(holder, dict) and isinstance(holder.get("layers"), list):
            return holder["layers"]
    return None


def _layer_line(layer: Any) -> str:
    if not isinstance(layer, dict):
        return _clip(str(layer))
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    name = cfg.get("name") or layer.get("name") or "?"
    details = " ".join(f"{k}={_compact(cfg[k])}" for k in LAYER_KEYS if cfg.get(k) is not None)
    return _clip(f"{name:<20} {layer.get('class_name', '?'):<18} {details}".rstrip())


# --------------------------------------------------------------------------- variables
def _variables(rec: Recording) -> str:
    every = [_printable_info(v) for v in rec.variables.values()]
    total = sum(v.size for v in every)
    lines = [f"Variables {len(every)} ({_count(total)} values per step)"]
    infos = every[:MAX_VARIABLES]
    width = max([len(v.name) for v in infos] + [4])
    dtypes = [v.dtype if v.dtype == v.stored_dtype else f"{v.dtype} stored as {v.stored_dtype}"
              for v in infos]
    shapes = ["x".join(str(d) for d in v.shape) or "scalar" for v in infos]
    dtype_width = max([len(d) for d in dtypes] + [10])
    shape_width = max([len(s) for s in shapes] + [14])
    for v, dtype, shape in zip(infos, dtypes, shapes, strict=True):
        extra = [x for x in (v.role, v.layer_class and f"in {v.layer_class} {v.layer}".strip())
                 if x]
        if not v.trainable:
            extra.append("non-trainable")
        lines.append(f"  {v.name:<{width}}  {shape:<{shape_width}} {dtype:<{dtype_width}}  "
                     f"{', '.join(extra)}".rstrip())
    if len(every) > MAX_VARIABLES:
        lines.append(f"  ... ({len(every) - MAX_VARIABLES} more)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- steps
def _printable_info(v: VariableInfo) -> VariableInfo:
    return dataclasses.replace(v, name=_clip(v.name, 120), dtype=_clip(v.dtype, 40),
                               layer=_clip(v.layer, 80), layer_class=_clip(v.layer_class, 80),
                               role=_clip(v.role, 40))


def _steps(rec: Recording) -> str:
    n = rec.num_steps
    lines = [f"Steps {n}"]
    if n:
        lines[0] += f" (global steps {int(rec.steps[0])}..{int(rec.steps[-1])})"
        epochs = np.unique(rec.epochs)
        lines.append(f"  epochs      {len(epochs)} on the timeline "
                     f"({int(epochs[0])}..{int(epochs[-1])}), {rec.num_epochs} with epoch logs")
    size = rec.file_size
    row = _row_bytes(rec)
    lines.append(f"  file size   {_bytes(size)}"
                 + (f", {_bytes(size / n)} per step on disk" if n else "")
                 + f" ({_bytes(row)} per step uncompressed)")
    if n:
        first, last = float(rec.wall_times[0]), float(rec.wall_times[-1])
        lines.append(f"  time span   {_when(first)} -> {_when(last)} ({_duration(last - first)})")
    return "\n".join(lines)


def _row_bytes(rec: Recording) -> int:
    data = sum(v.size * np.dtype(v.stored_dtype).itemsize for v in rec.variables.values())
    summaries = len(rec.variables) * len(rec.summary_columns) * 8
    return data + summaries + 8 * (len(L.TIMELINE_COLUMNS) + len(rec.scalar_names))


def _scalars(rec: Recording) -> str:
    step = _names(rec.scalar_names)
    epoch = _names(rec.epoch_scalar_names)
    return f"Scalars\n  per step    {step}\n  per epoch   {epoch}"


def _names(names: list[str]) -> str:
    shown = ", ".join(_clip(n, 80) for n in names[:MAX_NAMES])
    more = f" ... ({len(names) - MAX_NAMES} more)" if len(names) > MAX_NAMES else ""
    return (shown + more) or "none"


# --------------------------------------------------------------------------- health
def _health(rec: Recording) -> str:
    """First NaN/Inf of each variable and scalar, and each variable's largest norm jump."""
    if rec.num_steps == 0:
        return ""
    health = check_health(rec)
    first = health.first_nonfinite_weights
    lines = ["Health",
             "  weights     " + ("all finite" if first is None else
                                 f"first NaN/Inf at step {health.step(first)} (row {first})")]
    bad_scalars = {_clip(n, 80): r for n, r in health.scalars.items() if r is not None}
    lines.append("  scalars     " + (", ".join(f"{n} not finite from step {health.step(r)}"
                                               for n, r in bad_scalars.items()) or "all finite"))
    bad_epochs = {_clip(n, 80): e for n, e in health.epoch_scalars.items() if e is not None}
    if bad_epochs:
        lines.append("  per epoch   " + ", ".join(f"{n} not finite from epoch {e}"
                                                 for n, e in bad_epochs.items()))
    lines += _health_table(health)
    return "\n".join(lines)


def _health_table(health: Health) -> list[str]:
    names = [_clip(v.name, 120) for v in health.variables[:MAX_VARIABLES]]
    width = max([len(n) for n in names] + [8])
    lines = [f"  {'variable':<{width}}  {'first NaN/Inf':<14}  largest norm jump (x previous step)"]
    for v, name in zip(health.variables, names, strict=False):  # at most MAX_VARIABLES
        first = "none" if v.first_nonfinite is None else f"step {health.step(v.first_nonfinite)}"
        jump = ("-" if v.jump is None else
                f"x{_ratio(v.jump_ratio)} at step {health.step(v.jump)}")
        lines.append(f"  {name:<{width}}  {first:<14}  {jump}")
    return lines


def _ratio(value: float) -> str:
    return f"{value:.3g}" if value < 1e4 else f"{value:.2e}"


# --------------------------------------------------------------------------- formatting
def _document(value: Any) -> str:
    """A JSON metadata document on one line; one that the reader could not parse says so.

    The reader parses documents up to 1 MiB; clipping comes before joining, so the work is
    bounded by that, whatever the file holds."""
    if isinstance(value, str):
        if len(value) > L.MAX_DOCUMENT_BYTES:
            return _clip("(over 1 MiB, not parsed) " + " ".join(value[:1000].split()))
        try:
            json.loads(value)
        except (ValueError, RecursionError):
            return _clip("(not valid JSON) " + " ".join(value[:1000].split()))
    try:
        return _inline(value)
    except RecursionError:
        return "(nested too deeply to show)"


def _inline(value: Any, limit: int = 200) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}={_compact(v)}" for k, v in value.items())
    else:
        text = _compact(value)
    return _clip(text, limit)


def _compact(value: Any) -> str:
    if isinstance(value, np.generic):  # plain 7, not np.int64(7)
        value = value.item()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_compact(v) for v in value) + ")"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    return " ".join(str(value).split())


def _clip(text: str, limit: int = 200) -> str:
    """At most `limit` characters of file text, on one line (control characters escaped)."""
    return printable(text if len(text) <= limit else text[: limit - 3] + "...")


def _count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _when(t: float) -> str:
    if not np.isfinite(t):
        return "?"
    try:
        return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):
        return f"? ({t:g} s)"


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
