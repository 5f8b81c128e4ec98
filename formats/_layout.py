"""Names and constants of the recording format (SPEC.md), shared by writer, reader, validator."""

from __future__ import annotations

FORMAT_NAME = "weightreel"
FORMAT_VERSION = "1.1"
FORMAT_MAJOR = 1

# Root attributes.
ATTR_FORMAT = "format"
ATTR_VERSION = "format_version"
ATTR_CREATOR = "creator"
ATTR_CREATED = "created"
ATTR_FLOAT16_OVERFLOW = "float16_overflow_step"  # 1.1: first step a float16 value overflowed

# Top-level objects.
COMMITTED = "committed"  # int64[2]: [committed steps, committed epochs]
META = "meta"
TIMELINE = "timeline"
VARIABLES = "variables"
SUMMARIES = "summaries"
STEP_SCALARS = "scalars/step"
EPOCH_SCALARS = "scalars/epoch"

TIMELINE_COLUMNS = {"step": "<i8", "epoch": "<i8", "batch": "<i8", "wall_time": "<f8"}
EPOCH_COLUMN = "epoch"  # /scalars/epoch/epoch holds each epoch row's epoch number

# Run attributes on /meta, created with fixed sizes so that close() rewrites them in place.
RUN_ATTRS_TEXT = ("framework", "framework_version", "host", "started", "ended")
RUN_ATTR_FINISHED = "finished"
TEXT_ATTR_BYTES = 64
# JSON or text documents stored as string datasets under /meta (attributes cap at 64 KiB).
META_JSON = ("model_config", "optimizer_config", "hyperparameters", "versions", "source", "extra")
META_TEXT = ("model_name", "notes")
MAX_DOCUMENT_BYTES = 1 << 20  # a longer metadata document is kept clipped, never parsed

# Variable dataset attributes.
VAR_ATTRS = ("layer", "layer_class", "role", "trainable", "dtype", "order")

QUANTILES = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
# The 18 summary columns of format 1.0, computed from one step's values alone.
BASE_SUMMARY_COLUMNS = ("min", "max", "mean", "std", "norm", "nan_count", "inf_count") + tuple(
    f"q{q:g}" for q in QUANTILES
)
UPDATE_NORM = "update_norm"  # added in 1.1: ||W_t - W_(t-1)||, from the previous row
SUMMARY_COLUMNS = (*BASE_SUMMARY_COLUMNS, UPDATE_NORM)
QUANTILE_SAMPLE = 4096  # quantiles come from at most this many elements (exact below it)


LAYOUT_LETTERS = "oihwdx"  # output, input, height, width, depth, other (SPEC: "layout")


def check_layout(layout: str, shape: tuple[int, ...]) -> None:
    """Raise ValueError unless `layout` is "" or one known letter per axis of `shape`."""
    if layout and (len(layout) != len(shape) or set(layout) - set(LAYOUT_LETTERS)):
        raise ValueError(f"layout {layout!r} must have one of the letters {LAYOUT_LETTERS!r} "
                         f"per axis of shape {tuple(shape)}")


def split_name(name: str) -> list[str]:
    """The HDF5 path components of a variable or scalar name; raises ValueError if unusable."""
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unusable name {name!r}: empty or '.' path components")
    return parts
