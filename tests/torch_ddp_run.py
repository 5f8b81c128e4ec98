"""One rank of a two-process DDP or FSDP run (gloo on 127.0.0.1): both ranks make a TorchRecorder
on the same path; only rank 0 may write. Prints one JSON object last.

    python torch_ddp_run.py PATH ddp|fsdp    (with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

from weightreel.formats import open_recording
from weightreel.recorder import TorchRecorder


def full_state(model, net, mode: str) -> dict[str, torch.Tensor]:
    if mode == "ddp":
        return {k: v.clone() for k, v in net.state_dict().items()}
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True,
                                                                cpu_offload=True))
    return {k: v.clone() for k, v in full.items()}  # buffers come back as the live tensors


def wrap(net, mode: str):
    if mode == "ddp":
        return torch.nn.parallel.DistributedDataParallel(net)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (2,))
    for layer in net:
        if any(True for _ in layer.parameters()):
            fully_shard(layer, mesh=mesh)
    return fully_shard(net, mesh=mesh)


def main(path: str, mode: str) -> dict:
    dist.init_process_group("gloo", init_method="env://")
    rank = dist.get_rank()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                              torch.nn.Linear(8, 1))
    model = wrap(net, mode)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(1 + rank)  # each rank its own data
    reference = []
    with TorchRecorder(model, path, optimizer=opt, strict=True) as recorder:
        reference.append(full_state(model, net, mode))
        for _ in range(3):
            loss = model(torch.randn(16, 4)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            recorder.log(loss=loss)
            opt.step()
            reference.append(full_state(model, net, mode))
        active = recorder.active
    dist.barrier()  # rank 0 has closed the file
    result = {"rank": rank, "active": active, "exact": None}
    if rank == 0:
        rec = open_recording(path)
        result["names"] = rec.variable_names
        result["exact"] = rec.num_steps == 4 and all(
            rec.read(k.replace(".", "/"), i).tobytes() == v.numpy().tobytes()
            for i, row in enumerate(reference) for k, v in row.items())
    dist.destroy_process_group()
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
    sys.stdout.flush()
    os._exit(0)
