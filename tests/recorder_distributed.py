"""Run by test_recorder_distributed.py in subprocesses: WeightRecorder under tf.distribute.

    python recorder_distributed.py mirrored OUTDIR
    python recorder_distributed.py worker INDEX PORT0,PORT1 OUTDIR

"mirrored" trains with MirroredStrategy on two logical CPU devices. "worker" is one of two
MultiWorkerMirroredStrategy workers on 127.0.0.1 (TF_CONFIG is set here, before TensorFlow
starts); each is given its own file, worker{INDEX}.h5, and only the chief (worker 0) may write.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys


def train(strategy, path: str, dataset: bool = False) -> dict:
    import keras
    import tensorflow as tf
    from recorder_helpers import Reference, classification_data

    from weightreel.formats import open_recording
    from weightreel.recorder import WeightRecorder

    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.BatchNormalization(), keras.layers.Dense(3)])
        model.compile(keras.optimizers.SGD(0.1),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = classification_data(64)
    data = {"x": x, "y": y, "batch_size": 16}
    if dataset:
        # Keras 3.15's fit reduces the first (x, y) batch with strategy.reduce() to build the
        # model symbolically, which MultiWorkerMirroredStrategy rejects (PerReplica is not a
        # tensor). The model is built already: build the optimizer too and skip that step.
        with strategy.scope():
            model.optimizer.build(model.trainable_variables)
        model._maybe_symbolic_build = lambda *args, **kwargs: None
        _patch_keras_multi_worker_reduce(tf)
        options = tf.data.Options()
        policy = tf.data.experimental.AutoShardPolicy.DATA
        options.experimental_distribute.auto_shard_policy = policy
        data = {"x": tf.data.Dataset.from_tensor_slices((x, y)).batch(16).with_options(options)}
    ref = Reference()
    history = model.fit(**data, epochs=2, verbose=0, shuffle=False,
                        callbacks=[WeightRecorder(path, strict=True), ref])
    result = {"epochs_run": len(history.history["loss"]), "reference": len(ref.weights),
              "exists": os.path.exists(path)}
    if result["exists"]:
        with open_recording(path) as rec:
            result["steps"] = rec.steps.tolist()
            result["bit_exact"] = all(
                rec.read(name, i).tobytes() == ref.weights[i][j].tobytes()
                for i in range(rec.num_steps) for j, name in enumerate(rec.variable_names))
    return result


def _patch_keras_multi_worker_reduce(tf) -> None:
    """Keras 3.15 reduces the scalar logs of a MultiWorkerMirroredStrategy step with axis=0,
    which TensorFlow rejects; reduce them across replicas without an axis instead."""
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(
                strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    trainer.reduce_per_replica = reduce_per_replica


def main() -> None:
    mode = sys.argv[1]
    if mode == "mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        result = train(strategy, os.path.join(sys.argv[2], "mirrored.h5"))
        result["replicas"] = strategy.num_replicas_in_sync
    else:
        index, ports, out = int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]
        os.environ["TF_CONFIG"] = json.dumps({
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index}})
        import tensorflow as tf

        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        result = train(strategy, os.path.join(out, f"worker{index}.h5"), dataset=True)
        result["replicas"] = strategy.num_replicas_in_sync
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
