"""Run metadata from a Keras model: framework, versions, model and optimizer configuration."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

_PACKAGES = ("numpy", "h5py", "weightreel")
_BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def model_metadata(model: Any, optimizer: Any = None) -> dict[str, Any]:
    """Metadata for a recording of `model`; parts that cannot be had are left out.

    The versions name Keras, its backend and the backend's framework only: a framework that is
    installed but not used is left out.
    """
    backend = _backend()
    found = versions("keras", *([_BACKEND_PACKAGES[backend]] if backend in _BACKEND_PACKAGES
                                else []))
    meta: dict[str, Any] = {"framework": "keras", "framework_version": found.get("keras", "")}
    if backend:
        found["keras_backend"] = backend
    meta["versions"] = found
    name = getattr(model, "name", None)
    if name:
        meta["model_name"] = str(name)
    config = _model_config(model)
    if config is not None:
        meta["model_config"] = config
    if optimizer is not None:
        opt = _optimizer_config(optimizer)
        if opt is not None:
            meta["optimizer_config"] = opt
    return meta


def versions(*frameworks: str) -> dict[str, str]:
    """Python, platform, and the versions of `frameworks` and of weightreel's own needs."""
    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in (*frameworks, *_PACKAGES):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def json_safe(value: Any) -> Any:
    """`value` made of JSON types only (numbers as Python numbers, the rest as text)."""
    return json.loads(json.dumps(value, default=_to_json))


def _to_json(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def _backend() -> str:
    try:
        import keras

        return str(keras.backend.backend())
    except Exception:  # noqa: BLE001 - metadata is best effort
        return ""


def _model_config(model: Any) -> Any:
    try:
        return json.loads(model.to_json())
    except Exception:  # noqa: BLE001 - subclassed models often cannot be serialized
        return None


def _optimizer_config(optimizer: Any) -> Any:
    try:
        config = dict(optimizer.get_config())
    except Exception:  # noqa: BLE001
        return None
    config.setdefault("class_name", type(optimizer).__name__)
    return json_safe(config)
