"""A Flax (linen) MLP with BatchNorm trained with Optax, recorded with JaxRecorder.

    python samples/flax_mlp.py [OUT] [EPOCHS]    # default: samples/flax_mlp.h5, 6 epochs
"""

import os
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from sklearn.datasets import make_moons

from weightreel.recorder import JaxRecorder

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "flax_mlp.h5")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.Dense(16)(x)
        x = nn.tanh(nn.BatchNorm(use_running_average=not train)(x))
        return nn.Dense(2)(x)


x, y = make_moons(400, noise=0.1, random_state=0)
x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y)
model, tx = MLP(), optax.adam(0.02)
variables = model.init(jax.random.PRNGKey(0), x[:32])
params, stats = variables["params"], variables["batch_stats"]
opt_state = tx.init(params)


@jax.jit
def train_step(params, stats, opt_state, xb, yb):
    def loss_fn(p):
        logits, new = model.apply({"params": p, "batch_stats": stats}, xb, mutable=["batch_stats"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), new
    (loss, new), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), new["batch_stats"], opt_state, loss


step = 0
with JaxRecorder(out, notes="Flax MLP with BatchNorm on two moons") as recorder:
    recorder.record(0, {"params": params, "batch_stats": stats})
    for epoch in range(epochs):
        order = jax.random.permutation(jax.random.PRNGKey(epoch + 1), len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            params, stats, opt_state, loss = train_step(params, stats, opt_state, x[idx], y[idx])
            step += 1
            recorder.record(step, {"params": params, "batch_stats": stats},
                            scalars={"loss": loss}, epoch=epoch)
print(f"recorded {out}")
