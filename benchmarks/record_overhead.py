"""How much does recording slow down training? WeightRecorder against plain fit and the others.

An MLP 784-256-128-10 on 20,000 random samples, batch 64, one epoch, in one process. Rounds
alternate: plain fit; the origin post's callback (get_weights() appended to a list);
keras.callbacks.TensorBoard(histogram_freq=1); weightreel's WeightRecorder at every batch.
Each is reported as the median over rounds of its time divided by the plain fit of the same
round: the whole fit (`name`, opening and closing the recording included) and the steady-state
time per step (`name_step`, from the 20th batch on: the issue's "step-time ratio"), and the
process's extra CPU time per batch over the plain fit of the same round (`name_extra_cpu_ms`:
the writer thread, and what TensorFlow's threads spend waiting for a core it takes), and for
WeightRecorder where that CPU goes (`weightreel_cpu_ms_main`: the training thread's extra,
`_writer`: the writer thread, `_pwrite`: its direct-write thread, `_other`: TensorFlow's other
threads' extra; the parts add up to `weightreel_extra_cpu_ms`). Each variant's steady-state
step is also split into the time inside Keras' compiled train function (`name_in_step_ms`)
and the time between steps on the training thread (`name_between_steps_ms`: the callbacks,
the snapshot). Two diagnostics bound the recorder's parts: `diag_snapshot_only` reads every
variable and drops the values; `diag_training_side_only` is WeightRecorder with a writer
thread that drops the steps (what the training thread pays: the snapshot into step buffers,
the queue). `diag_burn_without_lock` and `diag_burn_with_lock` add to the training side a
writer thread that spends the real writer's CPU per step (0.7 ms) without holding the
interpreter lock, or holding it: whether the writer's CPU or its hold on the lock slows
training. With Keras on JAX the train function returns before the device is done, so its
split says little. Then the same ratios for a model of about 10M parameters (fewer batches),
and the peak RSS growth over 5,000 recorded steps of the MLP. Then the MLP's
plain-vs-WeightRecorder ratio again with Keras on the JAX and torch backends, each in its own
process (KERAS_BACKEND is fixed when Keras is imported). The last line printed is a JSON object.

`--spare-core` runs only the MLP comparison (plain, WeightRecorder, the diagnostics) with
TensorFlow's intra-op and inter-op threads set to one fewer than the machine's cores, plain
fit included, so that training leaves a core to the writer, as on a machine with more cores
than training keeps busy (a GPU machine's host, for one). It shows what the recorder costs
there: the training thread's own share, and what the writer's thread still takes from the
step (a core TensorFlow's data pipeline also uses, and the interpreter lock).

    python benchmarks/record_overhead.py              # full run (several minutes)
    python benchmarks/record_overhead.py --quick      # small run (under a minute)
    python benchmarks/record_overhead.py --spare-core # the MLP with a core left free
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from overhead.measure import compare, data, mlp, timed_fit  # noqa: E402
from overhead.variants import DIAGNOSTICS  # noqa: E402

from weightreel.recorder import WeightRecorder  # noqa: E402


def rss_growth(steps: int, tmp: str) -> dict[str, float]:
    """Peak RSS over the baseline during a recorded fit of `steps` steps, and during a plain one.

    A plain fit itself has a transient peak (Keras copies the data); the recorder's share is
    the difference. The peak in the first half against the whole run shows whether memory
    grows with the number of steps.
    """
    model = mlp((256, 128))
    x, y = data(20000)
    timed_fit(model, x, y, [])  # TensorFlow's own memory settles in the first epoch
    epochs = max(1, round(steps / (len(x) / 64)))
    path = os.path.join(tmp, "rss.h5")
    plain_peak, _, _ = _peak_rss(lambda: timed_fit(model, x, y, []))
    peak, first_half, seconds = _peak_rss(
        lambda: timed_fit(model, x, y, [WeightRecorder(path)], epochs=epochs))
    size = os.path.getsize(path)
    os.remove(path)
    recorded = epochs * int(np.ceil(len(x) / 64)) + 1
    return {"steps": recorded, "peak_rss_growth_mb": peak, "plain_fit_peak_rss_growth_mb":
            plain_peak, "recorder_share_mb": peak - plain_peak,
            "peak_rss_growth_first_half_mb": first_half, "file_mb": size / 2**20,
            "seconds": seconds}


def _peak_rss(run) -> tuple[float, float, float]:
    """Peak RSS growth (MB) during `run()`, the same over its first half, and its seconds."""
    process = psutil.Process()
    base = process.memory_info().rss
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            samples.append((time.monotonic(), process.memory_info().rss))

    watcher = threading.Thread(target=watch, daemon=True)
    start = time.monotonic()
    watcher.start()
    run()
    seconds = time.monotonic() - start
    done.set()
    watcher.join()
    half = [rss for t, rss in samples if t - start < seconds / 2] or [base]
    peak = max([rss for _, rss in samples] or [base])
    return (peak - base) / 2**20, (max(half) - base) / 2**20, seconds


def other_backend(backend: str, argv: list[str]) -> dict:
    """This benchmark's MLP comparison in a process whose Keras runs on `backend`."""
    proc = subprocess.run([sys.executable, __file__, "--backend-only", *argv],
                          env={**os.environ, "KERAS_BACKEND": backend},
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spare_core(quick: bool, rounds: int) -> dict:
    """The MLP comparison with TensorFlow's thread pools one fewer than the cores."""
    import tensorflow as tf

    threads = max(1, (os.cpu_count() or 2) - 1)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    result: dict = {"quick": quick, "cpu_count": os.cpu_count(), "intra_op_threads": threads,
                    "inter_op_threads": threads}
    with tempfile.TemporaryDirectory() as tmp:
        result["mlp_784_256_128_10"] = compare(
            (256, 128), 4000 if quick else 20000, rounds,
            ["plain", "weightreel", *DIAGNOSTICS], tmp)
    print(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--backend-only", action="store_true",
                        help="only the MLP, plain against weightreel, on KERAS_BACKEND")
    parser.add_argument("--spare-core", action="store_true",
                        help="only the MLP, with TensorFlow's threads one fewer than the cores, so "
                             "that a core is left to the writer")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 7)
    if args.spare_core:
        return spare_core(args.quick, rounds)
    if args.backend_only:
        with tempfile.TemporaryDirectory() as tmp:
            result = compare((256, 128), 4000 if args.quick else 20000, rounds,
                             ["plain", "weightreel"], tmp, warm_recorder=True)
        result["backend"] = keras.backend.backend()
        print(json.dumps(result))
        return result
    names = ["plain", "get_weights_list", "tensorboard_histograms", "weightreel",
             "diag_sync_noop_callback", *DIAGNOSTICS]
    result: dict = {"quick": args.quick, "cpu_count": os.cpu_count(),
                    "keras": keras.__version__, "backend": keras.backend.backend()}
    with tempfile.TemporaryDirectory() as tmp:
        result["mlp_784_256_128_10"] = compare((256, 128), 4000 if args.quick else 20000,
                                               rounds, names, tmp)
        print(json.dumps(result["mlp_784_256_128_10"]), flush=True)
        big = (1024, 256) if args.quick else (4096, 1536)
        result["mlp_10m"] = compare(big, 640 if args.quick else 2048, rounds,
                                    ["plain", "weightreel"], tmp)
        print(json.dumps(result["mlp_10m"]), flush=True)
        result["rss"] = rss_growth(500 if args.quick else 5000, tmp)
    for backend in ("jax", "torch"):
        result[f"mlp_784_256_128_10_keras_{backend}"] = other_backend(backend, argv or [])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
