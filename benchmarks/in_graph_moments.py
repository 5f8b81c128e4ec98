"""Would computing the summaries' moments inside the compiled train step be cheaper?

The same MLP as record_overhead.py (784-256-128-10, batch 64, 313 batches). Its Keras
`train_step` is wrapped so that, after the update, the compiled step also computes each
variable's moments with TensorFlow ops and assigns them to a small variable (nothing else
changes: no callback, no recording). Rounds alternate plain and wrapped steps in one process;
each figure is the median over rounds of the steady-state time per step (from the 20th batch
on) divided by the plain step's of the same round:

- `moments_step`: sum, sum of squares, min and max of every variable;
- `moments_update_norm_finite_step`: the same, plus the update norm (against a copy of the
  previous values kept in the graph) and the count of finite values: what the writer thread
  computes with numpy for every step.

Compare with record_overhead.py's `weightreel_step` and `diag_snapshot_only_step`: if these
alone cost about as much as the writer thread's numpy summaries, moving them into the graph
does not pay on this machine.

    python benchmarks/in_graph_moments.py
    python benchmarks/in_graph_moments.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402
from overhead.measure import StepTimer, data, median_ratio, mlp, timed_fit  # noqa: E402


def wrapped_steps(model) -> dict:
    """The plain train step, and the two wrapped ones, by name."""
    plain = model.train_step
    variables = [v.value for v in model.weights]
    previous = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
    out = {"moments": tf.Variable(tf.zeros((len(variables), 4))),
           "moments_update_norm_finite": tf.Variable(tf.zeros((len(variables), 6)))}

    def moments(flat):
        return [tf.reduce_sum(flat), tf.reduce_sum(flat * flat), tf.reduce_min(flat),
                tf.reduce_max(flat)]

    def with_moments(batch):
        logs = plain(batch)
        out["moments"].assign(tf.stack([tf.stack(moments(tf.reshape(v, [-1])))
                                        for v in variables]))
        return logs

    def with_everything(batch):
        logs = plain(batch)
        rows = []
        for v, p in zip(variables, previous, strict=True):
            flat = tf.reshape(v, [-1])
            moved = flat - tf.reshape(p, [-1])
            finite = tf.reduce_sum(tf.cast(tf.math.is_finite(flat), tf.float32))
            rows.append(tf.stack([*moments(flat), tf.reduce_sum(moved * moved), finite]))
            p.assign(v)
        out["moments_update_norm_finite"].assign(tf.stack(rows))
        return logs

    return {"plain": plain, "moments": with_moments,
            "moments_update_norm_finite": with_everything}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 7)
    model = mlp((256, 128))
    x, y = data(4000 if args.quick else 20000)
    steps = wrapped_steps(model)
    functions = {}
    for name, step in steps.items():  # trace each once; swapping them back costs nothing
        model.train_step, model.train_function = step, None
        timed_fit(model, x, y, [])
        functions[name] = model.train_function
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        for name in (list(steps) if r % 2 == 0 else list(reversed(steps))):
            model.train_step, model.train_function = steps[name], functions[name]
            timer = StepTimer(skip=20)
            timed_fit(model, x, y, [timer])
            times[name].append(timer.seconds_per_step())
    result = {f"{name}_step": median_ratio(times[name], times["plain"])
              for name in steps if name != "plain"}
    result.update({"plain_step_ms": statistics.median(times["plain"]) * 1e3,
                   "rounds": rounds, "quick": args.quick})
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
