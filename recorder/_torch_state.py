"""What a torch module holds, named and described for a recording, and how to copy it off.

Imported only by TorchRecorder (it imports torch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from weightreel.formats import VariableSpec

from ._snapshot import StepCopies

_WRAPPERS = ("module.", "_orig_mod.")  # DDP / DataParallel, and torch.compile
_LAYOUTS = {torch.nn.Linear: "oi", torch.nn.Conv1d: "oiw", torch.nn.Conv2d: "oihw",
            torch.nn.Conv3d: "oidhw", torch.nn.ConvTranspose1d: "iow",
            torch.nn.ConvTranspose2d: "iohw", torch.nn.ConvTranspose3d: "iodhw"}


@dataclass
class Entry:
    """One recorded tensor: the live tensor, its name in the file, and its spec."""

    tensor: torch.Tensor
    name: str
    spec: VariableSpec
    key: str = ""  # the state_dict key


def model_entries(model: torch.nn.Module) -> list[Entry]:
    """Every parameter and persistent buffer of `model`, in state_dict order, tied ones once."""
    seen: set[int] = set()
    entries: list[Entry] = []
    for key, tensor in model.state_dict(keep_vars=True).items():
        if id(tensor) in seen or not isinstance(tensor, torch.Tensor):
            continue
        seen.add(id(tensor))
        path, _, role = key.rpartition(".")
        module = model.get_submodule(path) if path else model
        entries.append(Entry(tensor, clean_name(key), _spec(tensor, module, clean_name(path),
                                                            role), key))
    return entries


def clean_name(key: str) -> str:
    """A state_dict key as a recording name: wrappers' prefixes dropped, `/` for `.`."""
    while key.startswith(_WRAPPERS):
        key = key.split(".", 1)[1]
    key = key.replace("._orig_mod.", ".")  # a compiled submodule
    return key.replace(".", "/")


def _spec(tensor: torch.Tensor, module: torch.nn.Module, layer: str, role: str) -> VariableSpec:
    dtype = "bfloat16" if tensor.dtype == torch.bfloat16 else str(_numpy_dtype(tensor.dtype))
    return VariableSpec(
        shape=tuple(tensor.shape), dtype=dtype, layer=layer, layer_class=type(module).__name__,
        role=role, layout=_layout(tensor, module, role),
        trainable=isinstance(tensor, torch.nn.Parameter) and tensor.requires_grad)


def _layout(tensor: torch.Tensor, module: torch.nn.Module, role: str) -> str:
    if tensor.dim() == 1:
        return "o"
    layout = next((v for k, v in _LAYOUTS.items() if isinstance(module, k)), "")
    return layout if role == "weight" and len(layout) == tensor.dim() else ""


def _host_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of a host copy: bfloat16 (which numpy lacks) becomes float32."""
    return torch.float32 if dtype == torch.bfloat16 else dtype


@functools.cache  # called for every tensor of every recorded step
def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dtype).numpy().dtype


def copy_off(tensors: list[torch.Tensor], copies: StepCopies) -> list[np.ndarray]:
    """Host copies of `tensors` (never views of them), bfloat16 as float32.

    CPU tensors are copied into `copies`' reused step buffers where one is free. GPU tensors
    are copied into pinned host memory without blocking, then one wait for all of them;
    PyTorch caches the pinned blocks, and each step gets its own, since the queued arrays are
    still being written while training goes on.
    """
    if all(t.device.type == "cpu" for t in tensors):
        targets = copies.targets(tuple((tuple(t.shape), _numpy_dtype(_host_dtype(t.dtype)))
                                       for t in tensors))
        if targets is not None:
            with torch.no_grad():
                for t, target in zip(tensors, targets, strict=True):
                    torch.from_numpy(target).copy_(t.detach())
            return targets
    out, devices = [], set()
    with torch.no_grad():
        for t in tensors:
            on_gpu = t.device.type == "cuda"
            host = torch.empty(t.shape, dtype=_host_dtype(t.dtype), pin_memory=on_gpu)
            host.copy_(t.detach(), non_blocking=on_gpu)
            if on_gpu:
                devices.add(t.device)
            out.append(host)
    for device in devices:
        torch.cuda.current_stream(device).synchronize()
    return [h.numpy() for h in out]


def learning_rates(optimizer: torch.optim.Optimizer | None) -> dict[str, float]:
    """The learning rate of each param group: `learning_rate`, then `learning_rate_1`, ..."""
    rates: dict[str, float] = {}
    for i, group in enumerate(getattr(optimizer, "param_groups", None) or []):
        lr = group.get("lr")
        if lr is not None:
            rates["learning_rate" if i == 0 else f"learning_rate_{i}"] = float(lr)
    return rates


def is_sharded(model: torch.nn.Module) -> bool:
    """Whether FSDP shards the model's parameters (DTensors, or an FSDP1 wrapper)."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    if any(isinstance(m, FullyShardedDataParallel) for m in model.modules()):
        return True
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:
        return False
    return any(isinstance(p, DTensor) for p in model.parameters())


def gather_full(model: torch.nn.Module, entries: list[Entry]) -> list[torch.Tensor]:
    """The full values of a sharded model's entries, on the CPU of rank 0 (empty elsewhere).

    A collective: every rank must call it at the same step.
    """
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True,
                                                                cpu_offload=True))
    return [full[e.key] for e in entries] if full else []


def is_rank_zero() -> bool:
    """Whether this process writes: rank 0 of torch.distributed, or a lone process."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
