"""What a variable is to its layer, in words for the variables panel's Role column."""

from __future__ import annotations

from typing import Any

ROLES = {
    "kernel": "weights", "weight": "weights", "w": "weights",
    "recurrent_kernel": "recurrent weights", "depthwise_kernel": "depthwise weights",
    "pointwise_kernel": "pointwise weights", "embeddings": "embedding table",
    "bias": "bias", "b": "bias", "gamma": "scale", "beta": "shift", "scale": "scale",
    "moving_mean": "mean", "moving_variance": "variance",
    "running_mean": "mean", "running_var": "variance",
}
NON_TRAINABLE = "not trained"


def role_text(info: Any) -> str:
    """'weights', 'bias', 'mean · not trained', ...: the recorded role (or the name's
    last part) in plain words; a variable the optimizer does not train says so."""
    leaf = info.name.rsplit("/", 1)[-1].split(":")[0]
    text = ROLES.get(info.role) or ROLES.get(leaf.lower()) or info.role or leaf
    return f"{text} · {NON_TRAINABLE}" if not info.trainable else text
