"""Choosing which model variables to record, and describing them for the recording."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from weightreel.formats import VariableSpec

Patterns = str | Sequence[str] | None


@dataclass
class Selected:
    """One variable to record: the model's variable, its name in the file, and its spec."""

    variable: Any
    name: str
    spec: VariableSpec


def select_variables(
    model: Any,
    *,
    include: Patterns = None,
    exclude: Patterns = None,
    layers: Sequence[Any] | None = None,
    trainable_only: bool = False,
) -> list[Selected]:
    """The variables of `model` to record, in `model.weights` order.

    A pattern (shell-style, like "dense*" or "*/bias") selects a variable when it matches the
    variable's path or the name of its layer. `layers` keeps only the variables of those layers
    (Layer objects or names), nested layers included.
    """
    owners = _owning_layers(model)
    wanted = _layer_variable_ids(model, layers) if layers is not None else None
    chosen: list[Selected] = []
    used: set[str] = set()
    for v in model.weights:
        layer = owners.get(id(v), model)
        if trainable_only and not v.trainable:
            continue
        if wanted is not None and id(v) not in wanted:
            continue
        names = (_path(v), getattr(layer, "name", ""))
        if include is not None and not _matches(names, include):
            continue
        if exclude is not None and _matches(names, exclude):
            continue
        name = _unique(_path(v), used)
        chosen.append(Selected(v, name, describe(v, layer)))
    return chosen


def describe(variable: Any, layer: Any) -> VariableSpec:
    """The VariableSpec of one Keras variable owned by `layer`."""
    return VariableSpec(
        shape=tuple(int(d) for d in variable.shape),
        dtype=str(getattr(variable.dtype, "name", variable.dtype)),
        layer=str(getattr(layer, "name", "")),
        layer_class=type(layer).__name__,
        role=str(variable.name).split("/")[-1].split(":")[0],
        trainable=bool(variable.trainable),
    )


def _path(variable: Any) -> str:
    path = getattr(variable, "path", None) or variable.name
    return str(path).split(":")[0]


def _owning_layers(model: Any) -> dict[int, Any]:
    """Map each variable to the innermost layer that holds it."""
    owners: dict[int, Any] = {}
    for layer in _all_layers(model):  # outer layers come before the layers they contain
        for v in getattr(layer, "weights", []):
            owners[id(v)] = layer
    return owners


def _all_layers(model: Any) -> list[Any]:
    flatten = getattr(model, "_flatten_layers", None)
    if flatten is not None:
        return list(flatten(include_self=True, recursive=True))
    found, todo = [], [model]
    while todo:
        layer = todo.pop(0)
        found.append(layer)
        todo.extend(getattr(layer, "layers", []))
    return found


def _layer_variable_ids(model: Any, layers: Iterable[Any]) -> set[int]:
    by_name = {layer.name: layer for layer in _all_layers(model)}
    ids: set[int] = set()
    for item in layers:
        layer = by_name.get(item) if isinstance(item, str) else item
        if layer is None:
            raise ValueError(f"the model has no layer named {item!r}")
        ids.update(id(v) for v in layer.weights)
    return ids


def _matches(names: Iterable[str], patterns: Patterns) -> bool:
    pats = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(fnmatch.fnmatchcase(n, p) for n in names if n for p in pats)


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate
