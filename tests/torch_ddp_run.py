"""One rank of a two-process DDP run (gloo on 127.0.0.1): both ranks make a TorchRecorder on the
same path; only rank 0 may write. Prints one JSON object last."""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

from weightreel.formats import open_recording
from weightreel.recorder import TorchRecorder


def main(path: str) -> dict:
    dist.init_process_group("gloo", init_method="env://")
    rank = dist.get_rank()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                              torch.nn.Linear(8, 1))
    model = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(1 + rank)  # each rank its own data
    reference = []
    with TorchRecorder(model, path, optimizer=opt, strict=True) as recorder:
        reference.append({k: v.clone() for k, v in net.state_dict().items()})
        for _ in range(3):
            loss = model(torch.randn(16, 4)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            recorder.log(loss=loss)
            opt.step()
            reference.append({k: v.clone() for k, v in net.state_dict().items()})
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
    print(json.dumps(main(sys.argv[1])))
    sys.stdout.flush()
    os._exit(0)
