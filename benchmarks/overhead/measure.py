"""Timing a fit: the benchmarks' MLP and data, steady-state time per step (and its part in
the compiled train function), CPU time per thread, and the alternating-rounds comparison of
record_overhead.py's variants."""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np

from weightreel.formats._direct import DirectWriter
from weightreel.recorder._worker import BackgroundWriter

from .variants import variants


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
    ratios = {name: median_ratio(times[name], times["plain"]) for name in names[1:]}
    ratios.update({f"{name}_step": median_ratio(steps[name], steps["plain"])
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


def median_ratio(values: list[float], plain: list[float]) -> float:
    """The median over rounds of a variant's figure divided by the plain fit's of that round."""
    return statistics.median(v / p for v, p in zip(values, plain, strict=True))
