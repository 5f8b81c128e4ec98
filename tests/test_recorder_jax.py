"""JaxRecorder on real Flax models (linen and NNX, each with BatchNorm) trained with Optax."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from weightreel.formats import RecordingError, open_recording
from weightreel.recorder import JaxRecorder


def batches(n: int):
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32"))
            for _ in range(n)]


class LinenNet(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.relu(nn.BatchNorm(use_running_average=not train)(nn.Dense(4)(x)))
        return nn.Dense(1)(x)


def assert_rows_equal(path, reference: list[dict[str, np.ndarray]]) -> None:
    rec = open_recording(path)
    assert rec.num_steps == len(reference)
    for i, row in enumerate(reference):
        assert set(row) == set(rec.variable_names)
        for name, want in row.items():
            got = rec.read(name, i)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (name, i)


def flat(tree, prefix="") -> dict[str, np.ndarray]:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        out.update(flat(value, name + "/") if hasattr(value, "items") else
                   {name: np.array(value)})
    return out


def test_flax_linen_with_batchnorm_is_bit_exact_in_model_order(tmp_path):
    model, tx = LinenNet(), optax.adam(0.01)
    variables = model.init(jax.random.PRNGKey(0), jnp.ones((8, 3)))
    params, stats = variables["params"], variables["batch_stats"]
    opt_state = tx.init(params)

    @jax.jit
    def step(params, stats, opt_state, x, y):
        def loss_fn(p):
            out, updates = model.apply({"params": p, "batch_stats": stats}, x,
                                       mutable=["batch_stats"])
            return jnp.mean((out - y) ** 2), updates["batch_stats"]
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), stats, opt_state, loss

    reference, path = [], tmp_path / "linen.h5"
    with JaxRecorder(path, strict=True) as recorder:
        recorder.record(0, {"params": params, "batch_stats": stats})
        reference.append(flat({"params": params, "batch_stats": stats}))
        for i, (x, y) in enumerate(batches(5), start=1):
            params, stats, opt_state, loss = step(params, stats, opt_state, x, y)
            recorder.record(i, {"params": params, "batch_stats": stats}, scalars={"loss": loss})
            reference.append(flat({"params": params, "batch_stats": stats}))
    assert_rows_equal(path, reference)
    rec = open_recording(path)
    assert rec.variable_names[:2] == ["params/Dense_0/kernel", "params/Dense_0/bias"]
    mean = rec.variables["batch_stats/BatchNorm_0/mean"]
    assert (mean.layer, mean.layer_class, mean.trainable) == ("BatchNorm_0", "BatchNorm", False)
    assert rec.variables["params/BatchNorm_0/scale"].layer == "BatchNorm_0"
    assert np.isfinite(rec.scalar("loss")[1:]).all()
    assert rec.metadata["framework"] == "jax" and "torch" not in rec.metadata["versions"]


class NnxNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.lin = nnx.Linear(3, 4, rngs=rngs)
        self.bn = nnx.BatchNorm(4, rngs=rngs)
        self.out = nnx.Linear(4, 1, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.bn(self.lin(x))))


def test_flax_nnx_with_batchnorm_is_bit_exact_every_other_step(tmp_path):
    model = NnxNet(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.sgd(0.05), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer, x, y):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    reference, path = [], tmp_path / "nnx.h5"
    with JaxRecorder(path, every=2, model=model, strict=True) as recorder:
        for i, (x, y) in enumerate([(None, None), *batches(4)]):
            if i:
                step(model, optimizer, x, y)
            recorder.record(i, nnx.state(model))
            if i % 2 == 0:
                reference.append({"/".join(map(str, k)): np.array(v.value) for k, v in
                                  nnx.to_flat_state(nnx.state(model))})
    assert_rows_equal(path, reference)
    rec = open_recording(path)
    assert rec.steps.tolist() == [0, 2, 4]
    assert rec.variable_names[:2] == ["lin/kernel", "lin/bias"]  # definition order
    info = rec.variables
    assert not info["bn/mean"].trainable and info["bn/scale"].trainable
    assert info["bn/mean"].layer_class == "BatchNorm" and info["out/kernel"].layer == "out"


def test_a_tree_that_changes_shape_stops_recording(tmp_path):
    with JaxRecorder(tmp_path / "x.h5") as recorder:
        recorder.record(0, {"w": jnp.ones(2)})
        with pytest.warns(UserWarning, match="x.h5"):
            assert not recorder.record(1, {"v": jnp.ones(2)})
    assert open_recording(tmp_path / "x.h5").num_steps == 1
    with JaxRecorder(tmp_path / "y.h5", strict=True) as recorder:
        recorder.record(0, {"w": jnp.ones(2)})
        with pytest.raises(RecordingError, match="y.h5"):
            recorder.record(1, {"w": jnp.ones(3)})
