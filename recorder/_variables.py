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
    variable's path, its path without the model's name in front (Keras 3 writes a Sequential
    model's paths as "model_name/dense/kernel"), or the name of its layer. `layers` keeps only
    the variables of those layers (Layer objects or names), nested layers included.
    Patterns that match no variable of the model are returned by `unmatched_patterns`.
    """
    owners = _owning_layers(model)
    wanted = _layer_variable_ids(model, layers) if layers is not None else None
    include_pats, exclude_pats = _pattern_list(include), _pattern_list(exclude)
    chosen: list[Selected] = []
    used: set[str] = set()
    for v in model.weights:
        layer = owners.get(id(v), model)
        if trainable_only and not v.trainable:
            continue
        if wanted is not None and id(v) not in wanted:
            continue
        names = match_names(model, v, layer)
        if include is not None and not _matches(names, include_pats):
            continue
        if exclude is not None and _matches(names, exclude_pats):
            continue
        name = _unique(_path(v), used)
        chosen.append(Selected(v, name, describe(v, layer)))
    return chosen


def unmatched_patterns(model: Any, include: Patterns = None, exclude: Patterns = None
                       ) -> list[str]:
    """The include/exclude patterns that match no variable of `model` at all (likely typos)."""
    owners = _owning_layers(model)
    names = [match_names(model, v, owners.get(id(v), model)) for v in model.weights]
    return [p for p in _pattern_list(include) + _pattern_list(exclude)
            if not any(_matches(n, [p]) for n in names)]


def match_names(model: Any, variable: Any, layer: Any) -> tuple[str, ...]:
    """The names a pattern is tried on: the path, the path without a leading model name,
    and the layer's name."""
    path = _path(variable)
    names = [path]
    first, sep, rest = path.partition("/")
    if sep and rest and first == getattr(model, "name", None):
        names.append(rest)
    names.append(str(getattr(layer, "name", "")))
    return tuple(names)


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


def _pattern_list(patterns: Patterns) -> list[str]:
    return [patterns] if isinstance(patterns, str) else list(patterns or [])


def _matches(names: Iterable[str], patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(n, p) for n in names if n for p in patterns)


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def match_recorded(recorded: Iterable[str], names: Sequence[str], model_name: str | None
                   ) -> dict[str, str] | None:
    """Map each of the model's variable names to the recorded name it continues, or None.

    Keras writes a Sequential model's paths with the model's name in front when the model is
    built in place ("resume_cnn/conv1/kernel") and without it after `load_model`
    ("conv1/kernel"), so a name matches the recorded one with or without that first part.
    The match must be one to one and cover both sides exactly.
    """
    recorded = list(recorded)
    for theirs in _name_forms(recorded, model_name):
        for ours in _name_forms(list(names), model_name):
            if len(set(theirs)) == len(theirs) == len(ours) and set(theirs) == set(ours):
                back = dict(zip(theirs, recorded, strict=True))
                return {name: back[form] for name, form in zip(names, ours, strict=True)}
    return None


def _name_forms(names: list[str], model_name: str | None) -> list[list[str]]:
    """The names as they are, and without a leading model name (or a first part they all
    share, which is the model's name under another name)."""
    forms = [names]
    firsts = {n.partition("/")[0] for n in names}
    for prefix in {model_name, *(firsts if len(firsts) == 1 else ())} - {None, ""}:
        if all(n.startswith(prefix + "/") for n in names):
            forms.append([n[len(prefix) + 1:] for n in names])
    return forms
