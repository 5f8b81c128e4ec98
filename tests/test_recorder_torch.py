"""TorchRecorder on real PyTorch models: bit-exact rows, names, buffers, bfloat16, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_recorder_distributed import free_ports

from weightreel.formats import RecordingError, open_recording
from weightreel.recorder import RecordingWarning, TorchRecorder

HERE = Path(__file__).resolve().parent


def small_cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))


def state_copy(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}


def train(model, opt, recorder, steps: int, accumulate: int = 1) -> list[dict]:
    n = steps * accumulate * 8
    x, y = torch.randn(n, 1, 8, 8), torch.randint(0, 3, (n,))
    reference = [state_copy(model)]
    for i in range(steps * accumulate):
        loss = torch.nn.functional.cross_entropy(model(x[i * 8:i * 8 + 8]), y[i * 8:i * 8 + 8])
        (loss / accumulate).backward()
        if (i + 1) % accumulate == 0:
            recorder.log(loss=loss)
            opt.step()
            opt.zero_grad()
            reference.append(state_copy(model))
    return reference


def test_cnn_with_batchnorm_is_bit_exact_at_every_step(tmp_path):
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with TorchRecorder(model, tmp_path / "cnn.h5", optimizer=opt, strict=True) as recorder:
        reference = train(model, opt, recorder, steps=6)
    rec = open_recording(tmp_path / "cnn.h5")
    assert rec.steps.tolist() == list(range(7))
    assert rec.variable_names == [k.replace(".", "/") for k in model.state_dict()]
    for i, row in enumerate(reference):
        for key, want in row.items():
            got = rec.read(key.replace(".", "/"), i)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (key, i)
    info = rec.variables
    assert (info["0/weight"].layout, info["0/weight"].layer, info["0/weight"].layer_class,
            info["0/weight"].role) == ("oihw", "0", "Conv2d", "weight")
    assert info["4/weight"].layout == "oi" and info["4/bias"].layout == "o"
    assert info["1/running_mean"].role == "running_mean" and not info["1/running_mean"].trainable
    assert info["1/num_batches_tracked"].dtype == "int64" and info["1/weight"].trainable
    assert np.isnan(rec.scalar("loss")[0]) and np.isfinite(rec.scalar("loss")[1:]).all()
    assert np.allclose(rec.scalar("learning_rate"), 0.01)
    assert rec.metadata["framework"] == "torch" and "tensorflow" not in rec.metadata["versions"]


def test_step_buffers_reused_under_back_pressure_keep_every_step_bit_exact(tmp_path):
    # A queue of one step: 2 reused step buffers serve 80 steps (and a bfloat16-free model,
    # int64 num_batches_tracked included, goes through them whole).
    model = small_cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with TorchRecorder(model, tmp_path / "cnn.h5", optimizer=opt, strict=True,
                       max_queue_bytes=1) as recorder:
        reference = train(model, opt, recorder, steps=80)
        assert recorder._out.buffer_steps == 2
        assert 1 <= len(recorder._copies._buffers._buffers) <= 2
    rec = open_recording(tmp_path / "cnn.h5")
    assert rec.num_steps == 81
    for i, row in enumerate(reference):
        for key, want in row.items():
            assert rec.read(key.replace(".", "/"), i).tobytes() == want.tobytes(), (key, i)


def test_every_n_steps_with_gradient_accumulation(tmp_path):
    model = small_cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with TorchRecorder(model, tmp_path / "acc.h5", optimizer=opt, every=2) as recorder:
        reference = train(model, opt, recorder, steps=4, accumulate=3)  # 12 micro-steps
    rec = open_recording(tmp_path / "acc.h5")
    assert rec.steps.tolist() == [0, 2, 4]
    for i, ref_row in enumerate([0, 2, 4]):
        assert rec.read("4/weight", i).tobytes() == reference[ref_row]["4.weight"].tobytes()


def test_a_step_that_grad_scaler_skips_is_not_recorded(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    with TorchRecorder(model, tmp_path / "amp.h5", optimizer=opt):
        for bad in (False, True, False):
            loss = model(torch.ones(4, 3)).sum() * (float("inf") if bad else 1.0)
            scaler.scale(loss).backward()
            scaler.step(opt)  # skips opt.step() when the gradients are not finite
            scaler.update()
            opt.zero_grad()
    assert open_recording(tmp_path / "amp.h5").steps.tolist() == [0, 1, 2]


class Tied(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(5, 3)
        self.head = torch.nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight


def test_wrapper_prefixes_are_stripped_and_tied_weights_recorded_once(tmp_path):
    model = torch.nn.DataParallel(Tied())  # state_dict keys start with "module."
    with TorchRecorder(model, tmp_path / "tied.h5") as recorder:
        recorder.record()
    assert open_recording(tmp_path / "tied.h5").variable_names == ["embed/weight"]
    from weightreel.recorder._torch_state import clean_name

    assert clean_name("_orig_mod.features.0.weight") == "features/0/weight"
    assert clean_name("module.block._orig_mod.conv.bias") == "block/conv/bias"


def test_bfloat16_is_stored_as_float32_exactly(tmp_path):
    model = torch.nn.Linear(4, 2).to(torch.bfloat16)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    with TorchRecorder(model, tmp_path / "bf16.h5", optimizer=opt, strict=True):
        model(torch.ones(2, 4, dtype=torch.bfloat16)).sum().backward()
        opt.step()
    rec = open_recording(tmp_path / "bf16.h5")
    info = rec.variables["weight"]
    assert (info.dtype, info.source_dtype, info.stored_dtype) == ("float32", "bfloat16", "float32")
    want = model.weight.detach().float().numpy()
    assert rec.read("weight", 1).tobytes() == want.tobytes()
    assert not np.array_equal(rec.read("weight", 0), want)


def test_a_problem_warns_and_training_goes_on_unless_strict(tmp_path):
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    bad = tmp_path / "missing" / "x.h5"
    with pytest.warns(RecordingWarning, match="missing"):
        recorder = TorchRecorder(model, bad, optimizer=opt)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()  # the hook is not registered: nothing raises
    assert not recorder.active and recorder.error is not None
    with pytest.raises(RecordingError, match="missing"):
        TorchRecorder(model, bad, optimizer=opt, strict=True)


@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_two_processes_only_rank_zero_writes(tmp_path, mode):
    # FSDP (fully_shard) runs on CPU with gloo: each recorded step gathers the full parameters.
    port = free_ports(1)[0]
    path = tmp_path / "ddp.h5"
    procs = [subprocess.Popen(
        [sys.executable, str(HERE / "torch_ddp_run.py"), str(path), mode], cwd=HERE,
        env={**os.environ, "RANK": str(r), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
             "MASTER_PORT": str(port)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for r in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    results = sorted((json.loads(out.strip().splitlines()[-1]) for out, _ in outs),
                     key=lambda r: r["rank"])
    assert results[0]["active"] and results[0]["exact"]
    assert not results[1]["active"]
    assert results[0]["names"][0] == "0/weight"  # no "module." prefix
    assert [p.name for p in tmp_path.iterdir()] == ["ddp.h5"]  # no stray files from rank 1


def test_importing_the_recorder_imports_no_framework():
    code = ("import sys, weightreel.recorder; print([m for m in ('torch', 'jax', 'flax', "
            "'keras', 'tensorflow', 'lightning', 'transformers') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_the_recording_exists_under_its_name_before_the_first_step(tmp_path):
    model = small_cnn()
    path = tmp_path / "early.h5"
    recorder = TorchRecorder(model, path, optimizer=torch.optim.SGD(model.parameters(), 0.1))
    try:
        assert sorted(os.listdir(tmp_path)) == ["early.h5"]  # no temporary name beside it
        with open_recording(path) as rec:
            assert rec.num_steps == 1 and rec.steps.tolist() == [0]
    finally:
        recorder.close()
