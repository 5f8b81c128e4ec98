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
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402

from weightreel.formats._direct import DirectWriter  # noqa: E402
from weightreel.recorder import WeightRecorder  # noqa: E402
from weightreel.recorder._snapshot import Snapshot  # noqa: E402
from weightreel.recorder._worker import BackgroundWriter  # noqa: E402


class GetWeightsList(keras.callbacks.Callback):
    """The origin post's recorder: the whole model appended to a Python list every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[list[np.ndarray]] = []

    def on_batch_end(self, batch, logs=None):
        self.history.append(self.model.get_weights())


class SyncNoop(keras.callbacks.Callback):
    """Diagnostic: a callback that does nothing per batch (Keras then calls it synchronously)."""

    def on_train_batch_end(self, batch, logs=None):
        pass


class SnapshotOnly(keras.callbacks.Callback):
    """Diagnostic: WeightRecorder's per-batch read of every variable, without writing."""

    def on_train_begin(self, logs=None):
        self.snapshot = Snapshot(self.model.weights)  # fresh copies, no step buffers

    def on_train_batch_end(self, batch, logs=None):
        self.snapshot()


class StepTimer(keras.callbacks.Callback):
    """Steady-state time per step: from the end of batch `skip` to the end of the last batch,
    so that opening and closing the recording (a fit's first and last moments) are left out.
    Of it, the time inside Keras' compiled train function (`in_step`): what is left is the time
    between steps, on the training thread (callbacks, the snapshot, Keras' loop). Every variant
    gets one, plain included: its per-batch call costs each of them the same."""

    def __init__(self, skip: int = 20) -> None:
        super().__init__()
        self.skip, self.start, self.end, self.steps = skip, None, None, 0
        self.in_step = 0.0

    def on_train_begin(self, logs=None):
        self._own = run = self.model.train_function

        def timed(*args):
            start = time.perf_counter()
            try:
                return run(*args)
            finally:
                if self.start is not None:
                    self.in_step += time.perf_counter() - start

        self.model.train_function = timed

    def on_train_end(self, logs=None):
        self.model.train_function = self._own

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.start is None and batch >= self.skip:
            self.start, self.first = now, batch
        elif self.start is not None:
            self.end, self.steps = now, batch - self.first

    def seconds_per_step(self) -> float:
        return (self.end - self.start) / self.steps if self.steps else float("nan")

    def seconds_in_step(self) -> float:
        return self.in_step / self.steps if self.steps else float("nan")


class TrainingSideOnly(WeightRecorder):
    """Diagnostic: WeightRecorder whose writer thread drops the steps instead of writing them:
    what recording costs the training thread alone (the snapshot, the queue)."""

    def _open(self) -> None:
        super()._open()
        if self.recorder is not None:
            self.recorder._worker._append_many = self._write

    def _write(self, block: list) -> None:
        pass


BURN_SECONDS = 0.7e-3  # the writer's CPU per MLP step on the project's machine (writer_cpu.py)
_BURN_BYTES = bytes(1 << 16)


class BurnWithoutLock(TrainingSideOnly):
    """Diagnostic: the training side, and a writer thread that spends BURN_SECONDS of CPU per
    step without holding the interpreter lock (hashing, which releases it): whether the
    writer's CPU or its hold on the lock is what slows training."""

    def _write(self, block: list) -> None:
        end = time.thread_time() + len(block) * BURN_SECONDS
        while time.thread_time() < end:
            hashlib.sha256(_BURN_BYTES).digest()


class BurnWithLock(TrainingSideOnly):
    """Diagnostic: the same CPU per step, spent in Python, holding the interpreter lock."""

    def _write(self, block: list) -> None:
        end = time.thread_time() + len(block) * BURN_SECONDS
        while time.thread_time() < end:
            sum(range(300))


def mlp(hidden: tuple[int, ...]) -> keras.Model:
    layers = [keras.Input((784,))]
    layers += [keras.layers.Dense(n, activation="relu") for n in hidden]
    layers.append(keras.layers.Dense(10))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((samples, 784), dtype=np.float32), rng.integers(0, 10, samples)


def timed_fit(model, x, y, callbacks, epochs: int = 1) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, shuffle=False, callbacks=callbacks)
    return time.perf_counter() - start


DIAGNOSTICS = ["diag_snapshot_only", "diag_training_side_only", "diag_burn_without_lock",
               "diag_burn_with_lock"]


def variants(tmp: str) -> dict:
    return {
        "plain": lambda: [],
        "get_weights_list": lambda: [GetWeightsList()],
        "tensorboard_histograms": lambda: [keras.callbacks.TensorBoard(
            os.path.join(tmp, "tb"), histogram_freq=1)],
        "weightreel": lambda: [WeightRecorder(os.path.join(tmp, "run.h5"))],
        "diag_sync_noop_callback": lambda: [SyncNoop()],
        "diag_snapshot_only": lambda: [SnapshotOnly()],
        "diag_training_side_only": lambda: [TrainingSideOnly(os.path.join(tmp, "side.h5"))],
        "diag_burn_without_lock": lambda: [BurnWithoutLock(os.path.join(tmp, "free.h5"))],
        "diag_burn_with_lock": lambda: [BurnWithLock(os.path.join(tmp, "held.h5"))],
    }


def compare(hidden, samples: int, rounds: int, names, tmp: str,
            warm_recorder: bool = False) -> dict[str, float]:
    model = mlp(hidden)
    x, y = data(samples)
    timed_fit(model, x, y, [])  # trace and warm up
    make = variants(tmp)
    if warm_recorder:  # off TensorFlow, Keras' model.to_json imports TensorFlow once (~10 s)
        timed_fit(model, x, y, make["weightreel"]())
    times: dict[str, list[float]] = {name: [] for name in names}
    steps: dict[str, list[float]] = {name: [] for name in names}
    in_step: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else [names[0], *reversed(names[1:])]
        for name in order:
            timer = StepTimer(skip=min(20, len(x) // 64 // 4))
            with ThreadCpu() as spent:
                times[name].append(timed_fit(model, x, y, [*make[name](), timer]))
            cpu[name].append(spent)
            steps[name].append(timer.seconds_per_step())
            in_step[name].append(timer.seconds_in_step())
    ratios = {name: _median_ratio(times[name], times["plain"]) for name in names[1:]}
    ratios.update({f"{name}_step": _median_ratio(steps[name], steps["plain"])
                   for name in names[1:]})
    batches = int(np.ceil(len(x) / 64))
    for name in names[1:]:
        for part in ("process", *(("main", "writer", "pwrite", "other") if name == "weightreel"
                                  else ())):
            key = "extra_cpu_ms" if part == "process" else f"cpu_ms_{part}"
            ratios[f"{name}_{key}"] = statistics.median(
                (c[part] - p[part]) / batches * 1e3
                for c, p in zip(cpu[name], cpu["plain"], strict=True))
    for name in names:  # where the step's time goes: in the compiled function, or between
        ratios[f"{name}_in_step_ms"] = statistics.median(in_step[name]) * 1e3
        ratios[f"{name}_between_steps_ms"] = statistics.median(
            s - i for s, i in zip(steps[name], in_step[name], strict=True)) * 1e3
    ratios["plain_seconds"] = statistics.median(times["plain"])
    ratios["plain_step_ms"] = statistics.median(steps["plain"]) * 1e3
    ratios["params"] = model.count_params()
    return ratios


class ThreadCpu(dict):
    """CPU seconds spent while the block runs: by the process, the main thread (training's
    Python, the callbacks, the snapshot), weightreel's writer thread and its direct-write
    thread (counted by wrapping their loops, in this process only), and the others
    (TensorFlow's threads, and the kernel's work for them)."""

    def __enter__(self) -> ThreadCpu:
        self._counts = {"writer": 0.0, "pwrite": 0.0}
        self._saved = (BackgroundWriter._run, DirectWriter._write)
        BackgroundWriter._run = self._counted("writer", BackgroundWriter._run)
        DirectWriter._write = self._counted("pwrite", DirectWriter._write)
        self._start = time.process_time(), time.thread_time()
        return self

    def _counted(self, part: str, run):
        def counted(*args):
            start = time.thread_time()
            try:
                return run(*args)
            finally:
                self._counts[part] += time.thread_time() - start
        return counted

    def __exit__(self, *exc) -> None:
        self["process"] = time.process_time() - self._start[0]
        self["main"] = time.thread_time() - self._start[1]
        BackgroundWriter._run, DirectWriter._write = self._saved
        self.update(self._counts)  # the writer thread has ended: the fit closed the recording
        self["other"] = self["process"] - self["main"] - self["writer"] - self["pwrite"]


def _median_ratio(values: list[float], plain: list[float]) -> float:
    """The median over rounds of a variant's figure divided by the plain fit's of that round."""
    return statistics.median(v / p for v, p in zip(values, plain, strict=True))


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
