"""WeightRecorder under tf.distribute, each strategy in its own processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = str(HERE / "recorder_distributed.py")


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT, "mirrored", str(tmp_path)], cwd=HERE,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = last_json(proc.stdout)
    assert result["replicas"] == 2 and result["epochs_run"] == 2
    assert result["steps"] == list(range(9)) and result["bit_exact"]


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_mirrored_strategy_only_the_chief_writes(tmp_path):
    ports = ",".join(map(str, free_ports(2)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    workers = [subprocess.Popen([sys.executable, SCRIPT, "worker", str(i), ports, str(tmp_path)],
                                cwd=HERE, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = []
    try:
        for w in workers:
            outputs.append(w.communicate(timeout=150))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    for w, (_, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-3000:]
    chief, other = (last_json(out) for out, _ in outputs)
    assert chief["replicas"] == 2 and chief["epochs_run"] == 2 and other["epochs_run"] == 2
    assert chief["exists"] and chief["steps"] == list(range(1 + chief["reference"] - 1))
    assert chief["bit_exact"]
    assert not other["exists"] and not (tmp_path / "worker1.h5").exists()
    assert sorted(os.listdir(tmp_path)) == ["worker0.h5"]  # nothing else written anywhere
