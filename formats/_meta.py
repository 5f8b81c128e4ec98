"""Run metadata under /meta: small attributes plus JSON and text documents as datasets."""

from __future__ import annotations

import datetime as _dt
import json
import platform
from typing import Any

import h5py
import numpy as np

from ._layout import (
    MAX_DOCUMENT_BYTES,
    META_JSON,
    META_TEXT,
    RUN_ATTR_FINISHED,
    RUN_ATTRS_TEXT,
    TEXT_ATTR_BYTES,
)

STRING = h5py.string_dtype("utf-8")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def fixed_text(value: str) -> np.bytes_:
    """UTF-8 in TEXT_ATTR_BYTES bytes, NUL-padded; a longer value is cut at a character
    boundary, never inside one (SPEC.md, /meta)."""
    data = value.encode("utf-8")[:TEXT_ATTR_BYTES].decode("utf-8", "ignore").encode("utf-8")
    return np.bytes_(data.ljust(TEXT_ATTR_BYTES, b"\0"))


def write_run_attrs(meta: h5py.Group, values: dict[str, Any]) -> None:
    """Create every run attribute at its fixed size, so later updates rewrite them in place."""
    defaults = {"host": platform.node(), "started": now_iso(), "ended": ""}
    for key in RUN_ATTRS_TEXT:
        meta.attrs.create(key, fixed_text(str(values.get(key, defaults.get(key, "")))),
                          dtype=f"S{TEXT_ATTR_BYTES}")
    meta.attrs.create(RUN_ATTR_FINISHED, np.int8(0))


def update_run_attrs(meta: h5py.Group, **values: Any) -> None:
    for key, value in values.items():
        if key == RUN_ATTR_FINISHED:
            meta.attrs.modify(key, np.int8(bool(value)))
        else:
            meta.attrs.modify(key, fixed_text(str(value)))


def write_documents(meta: h5py.Group, values: dict[str, Any]) -> None:
    """Store JSON and text documents; unknown keys go into the `extra` JSON document."""
    extra = {k: v for k, v in values.items()
             if k not in META_JSON + META_TEXT + RUN_ATTRS_TEXT + (RUN_ATTR_FINISHED,)}
    docs = {k: values[k] for k in META_JSON + META_TEXT if values.get(k) is not None}
    if extra:
        docs["extra"] = {**extra, **(docs.get("extra") or {})}
    for key, value in docs.items():
        if key in META_JSON and not isinstance(value, str):
            value = json.dumps(value, default=str, sort_keys=True)
        if key in meta:
            if meta[key].asstr()[()] == str(value):
                continue  # a live file's metadata is changed only when it must be
            del meta[key]
        meta.create_dataset(key, data=str(value), dtype=STRING)


def read_metadata(meta: h5py.Group) -> dict[str, Any]:
    """All of /meta as one dict: attributes as text/bool, JSON documents parsed.

    A document longer than MAX_DOCUMENT_BYTES characters is kept as its clipped text, unparsed:
    a file may not make a reader format a document of any size."""
    out: dict[str, Any] = {}
    for key, value in meta.attrs.items():
        if isinstance(value, (bytes, np.bytes_)):
            value = value.rstrip(b"\0").decode("utf-8", "replace")
        elif key == RUN_ATTR_FINISHED:
            value = bool(np.asarray(value).reshape(-1)[0]) if np.size(value) else False
        out[key] = value.item() if isinstance(value, np.generic) else value
    for key, ds in meta.items():
        if not isinstance(ds, h5py.Dataset):
            continue
        text = _document_text(ds)
        if len(text) > MAX_DOCUMENT_BYTES:
            text = text[:MAX_DOCUMENT_BYTES] + f" ... (clipped at {MAX_DOCUMENT_BYTES} characters)"
        elif key in META_JSON:
            try:
                text = json.loads(text)
            except (ValueError, RecursionError):
                pass  # shown as text, marked as not valid JSON
        out[key] = text
    return out


def _document_text(ds: h5py.Dataset) -> str:
    if ds.dtype.kind in "OS" and ds.shape == ():
        value = ds[()]
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)
    return str(ds[()]) if ds.size <= MAX_DOCUMENT_BYTES else f"({ds.dtype} array {ds.shape})"
