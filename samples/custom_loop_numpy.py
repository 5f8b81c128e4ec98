"""Recording any training loop, in any framework, with weightreel.formats.RecordingWriter.

All weightreel needs is a name and a numpy array per variable at each step. This loop trains a
tiny two-layer network in plain numpy; with PyTorch the arrays would come from
`{name: p.detach().cpu().numpy() for name, p in model.named_parameters()}` and the names, like
"fc1.weight", would become "fc1/weight" (a "/" makes the layer name).

    python samples/custom_loop_numpy.py [OUT]    # default: samples/custom_loop_numpy.h5
"""

import os
import sys

import numpy as np

from weightreel.formats import RecordingWriter, VariableSpec

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "custom_loop_numpy.h5")
rng = np.random.default_rng(0)

# Data: two interleaved half-moons, labels 0 or 1.
t = rng.random(400) * np.pi
label = rng.integers(0, 2, 400)
x = np.stack([np.cos(t) + label, np.sin(t) * (1 - 2 * label) + 0.5 * label], 1)
x += rng.normal(0, 0.1, x.shape)

# A 2-16-1 network: tanh hidden layer, sigmoid output, trained by plain gradient descent.
params = {
    "hidden/weight": rng.normal(0, 1.0, (2, 16)), "hidden/bias": np.zeros(16),
    "output/weight": rng.normal(0, 0.5, (16, 1)), "output/bias": np.zeros(1),
}
roles = {"weight": "kernel", "bias": "bias"}


def forward_backward(p, xb, yb):
    h = np.tanh(xb @ p["hidden/weight"] + p["hidden/bias"])
    prob = 1 / (1 + np.exp(-(h @ p["output/weight"] + p["output/bias"])))[:, 0]
    loss = -np.mean(yb * np.log(prob + 1e-9) + (1 - yb) * np.log(1 - prob + 1e-9))
    d_out = (prob - yb)[:, None] / len(yb)
    d_h = (d_out @ p["output/weight"].T) * (1 - h**2)
    grads = {"output/weight": h.T @ d_out, "output/bias": d_out.sum(0),
             "hidden/weight": xb.T @ d_h, "hidden/bias": d_h.sum(0)}
    return loss, float(np.mean((prob > 0.5) == yb)), grads


metadata = {"framework": "numpy", "framework_version": np.__version__, "model_name": "moons",
            "notes": "a 2-16-1 numpy network on two moons, recorded with RecordingWriter",
            "hyperparameters": {"learning_rate": 0.5, "batch_size": 40}}
with RecordingWriter(out, "w", metadata=metadata) as writer:
    for name, value in params.items():
        layer, role = name.split("/")
        writer.declare(name, VariableSpec(value.shape, "float64", layer=layer,
                                          layer_class="Dense", role=roles[role]))
    writer.append(params, step=0, epoch=0, batch=-1)  # the initial state
    step = 0
    for epoch in range(30):
        order = rng.permutation(len(x))
        for batch in range(10):
            idx = order[batch * 40:(batch + 1) * 40]
            loss, acc, grads = forward_backward(params, x[idx], label[idx])
            for name in params:
                params[name] = params[name] - 0.5 * grads[name]
            step += 1
            writer.append(params, step=step, epoch=epoch, batch=batch,
                          scalars={"loss": loss, "accuracy": acc, "learning_rate": 0.5})
        writer.append_epoch(epoch, {"loss": forward_backward(params, x, label)[0]})

print("recorded", out)
