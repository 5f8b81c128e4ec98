"""Which Dense layers see an image, from the Keras model config in a recording's metadata.

A Dense kernel is drawn as receptive fields (one input image per unit) only where its input
plausibly is an image: the Dense is fed straight from the model's input and that input is a
square number of features (a flattened image: 64 = 8×8, 784 = 28×28), or it is fed by a
Flatten of the model's input shaped (height, width) or (height, width, 1). Layers that do
not change what a feature means (Dropout, noise, rescaling) may sit in between.
"""

from __future__ import annotations

import math
from typing import Any

from .layout import MIN_IMAGE_INPUTS

PASS_THROUGH = {"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling",
                "Normalization", "ActivityRegularization"}


def image_layers(model_config: Any) -> dict[str, tuple[int, int]]:
    """{Dense layer name: (height, width) of its input image} for a Sequential or functional
    Keras model config (as recorded in /meta); {} when there is none or it says nothing."""
    if not isinstance(model_config, dict):
        return {}
    config = model_config.get("config")
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        return {}
    shape = _input_shape(model_config, layers)
    if shape is None:
        return {}
    if model_config.get("class_name") == "Sequential":
        return _sequential(layers, shape)
    return _functional(layers, shape)


def _input_shape(model_config: dict, layers: list) -> tuple[int, ...] | None:
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            shape = (layer.get("config") or {}).get("batch_shape")
            if shape:
                return tuple(shape[1:])
    config = model_config.get("config") or {}
    build = config.get("build_input_shape") or (model_config.get("build_config") or {}).get(
        "input_shape")
    return tuple(build[1:]) if isinstance(build, list) and build else None


def _image_of(shape: tuple[int, ...], flattened: bool) -> tuple[int, int] | None:
    """The input image a Dense sees: a square of flat features, or a flattened 2-D input."""
    if any(not isinstance(s, int) for s in shape):
        return None
    if flattened and (len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)):
        return shape[0], shape[1]
    if not flattened and len(shape) == 1:
        side = math.isqrt(shape[0])
        if side * side == shape[0] and shape[0] >= MIN_IMAGE_INPUTS:
            return side, side
    return None


def _sequential(layers: list, shape: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    found, flattened = {}, False
    for layer in layers:
        kind, name = layer.get("class_name"), (layer.get("config") or {}).get("name", "")
        if kind in ("InputLayer", *PASS_THROUGH):
            continue
        if kind == "Flatten" and not flattened:
            flattened = True
            continue
        if kind == "Dense":
            image = _image_of(shape, flattened)
            if image is not None:
                found[name] = image
        break  # past the first layer that is not the input's: no image any more
    return found


def _functional(layers: list, shape: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    kinds = {(layer.get("config") or {}).get("name", layer.get("name")): layer
             for layer in layers}
    found = {}
    for name, layer in kinds.items():
        if layer.get("class_name") != "Dense":
            continue
        source, flattened = _single_input(layer), False
        while source in kinds and kinds[source].get("class_name") in (*PASS_THROUGH,
                                                                       "Flatten"):
            flattened |= kinds[source].get("class_name") == "Flatten"
            source = _single_input(kinds[source])
        if source in kinds and kinds[source].get("class_name") == "InputLayer":
            image = _image_of(shape, flattened)
            if image is not None:
                found[name] = image
    return found


def _single_input(layer: dict) -> str | None:
    """The name of the one layer feeding `layer` (Keras 3's keras_history), else None."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            history = node.get("keras_history")
            if isinstance(history, list) and history:
                names.append(history[0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(layer.get("inbound_nodes", []))
    return names[0] if len(set(names)) == 1 else None
