"""Naming and describing the leaves of a JAX pytree (Flax linen variables, NNX state, Optax
params) for a recording. Imported only by JaxRecorder (it imports jax)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from weightreel.formats import VariableSpec

from ._snapshot import StepCopies

PARAMS = "params"


@dataclass
class Leaf:
    """One array of the tree: its path parts, value, and NNX variable class name if any."""

    path: tuple[str, ...]
    value: Any
    kind: str = ""

    @property
    def name(self) -> str:
        return "/".join(self.path)


def leaves(tree: Any) -> list[Leaf]:
    """Every array of `tree` with its path, dicts in their own key order (Flax keeps the
    model's order there; jax.tree_util would sort the keys), NNX's trailing `value` dropped."""
    found: list[Leaf] = []
    _walk(tree, (), found)
    return found


def _walk(node: Any, path: tuple[str, ...], found: list[Leaf]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _walk(value, (*path, str(key)), found)
    elif _is_nnx_variable(node):
        found.append(Leaf(path, node.value, type(node).__name__))
    else:
        for keys, value in jax.tree_util.tree_flatten_with_path(node)[0]:
            parts = tuple(_key_text(k) for k in keys)
            if parts and parts[-1] == "value":
                parts = parts[:-1]
            found.append(Leaf((*path, *parts), value))


def _is_nnx_variable(node: Any) -> bool:
    return type(node).__module__.startswith("flax.nnx") and hasattr(node, "value") and \
        not isinstance(node, Mapping)


def _key_text(key: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def specs(found: list[Leaf], classes: Mapping[tuple[str, ...], str]) -> dict[str, VariableSpec]:
    """The VariableSpec of each leaf. With Flax collections at the top ("params",
    "batch_stats", ...), only "params" is trainable and each leaf's layer is its module path
    without the collection, so that batch statistics sit with their module's parameters."""
    collections = any(leaf.path[0] == PARAMS for leaf in found if leaf.path)
    out: dict[str, VariableSpec] = {}
    for leaf in found:
        module = leaf.path[1:-1] if collections else leaf.path[:-1]
        if leaf.kind:
            trainable = "Param" in leaf.kind
        else:
            trainable = not collections or leaf.path[0] == PARAMS
        value = np.asarray(leaf.value) if not hasattr(leaf.value, "dtype") else leaf.value
        out[leaf.name] = VariableSpec(
            shape=tuple(int(d) for d in value.shape), dtype=str(np.dtype(value.dtype)),
            layer="/".join(module), layer_class=classes.get(module) or _class_guess(module),
            role=leaf.path[-1] if leaf.path else "", trainable=trainable)
    return out


def _class_guess(module: tuple[str, ...]) -> str:
    """Flax linen names modules after their class: `Dense_0` is a Dense."""
    return re.sub(r"_\d+$", "", module[-1]) if module else ""


def model_order(model: Any) -> tuple[list[tuple[str, ...]], dict[tuple[str, ...], str]]:
    """For an NNX module: its variables' paths in attribute (definition) order, and each
    submodule's class. Empty for anything else."""
    order: list[tuple[str, ...]] = []
    classes: dict[tuple[str, ...], str] = {}
    _visit(model, (), order, classes, set())
    return order, classes


def _visit(obj: Any, path: tuple[str, ...], order: list, classes: dict, seen: set) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if _is_nnx_variable(obj):
        order.append(path)
        return
    if isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    elif isinstance(obj, dict):
        items = [(str(k), v) for k, v in obj.items()]
    elif type(obj).__module__.startswith("flax") or _is_nnx_module(obj):
        classes[path] = type(obj).__name__
        items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
    else:
        return
    for key, value in items:
        _visit(value, (*path, key), order, classes, seen)


def _is_nnx_module(obj: Any) -> bool:
    return any(c.__module__.startswith("flax.nnx") and c.__name__ == "Module"
               for c in type(obj).__mro__)


def ordered(found: list[Leaf], order: list[tuple[str, ...]]) -> list[Leaf]:
    """`found` in the model's order where it gives one; the rest after, as they were."""
    rank = {p: i for i, p in enumerate(order)}
    return sorted(found, key=lambda leaf: rank.get(leaf.path, len(rank)))


def copy_off(values: list[Any], copies: StepCopies) -> list[np.ndarray]:
    """Host copies, never views (a JAX buffer may be donated and reused by the next step): in
    `copies`' step buffers where one is free, else fresh."""
    return copies.copy([np.asarray(v) for v in jax.device_get(values)])
