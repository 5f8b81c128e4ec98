"""The origin post's demo, recorded with weightreel: one tanh neuron's weights approach [1, 1].

The post ("Visualizing Neuron Weights During Training", 2018) appended `model.get_weights()` to
a list in a callback. Here one line records every weight at every batch into a file that the
weightreel viewer replays:

    python samples/origin_demo.py [OUT]          # default: samples/origin_demo.h5
    weightreel samples/origin_demo.h5

(`python -m weightreel.recorder.demo OUT` runs the same demo.)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from weightreel.recorder import WeightRecorder  # noqa: E402
from weightreel.recorder.demo import origin_data, origin_model  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                          "origin_demo.h5")

# One neuron, two inputs, tanh activation; SGD with learning rate 0.5 and mean squared error.
model = origin_model(seed=0)
# 500 random points (x1, x2) in the unit square, labelled tanh(x1 + x2).
x, y = origin_data(samples=500, seed=0)

model.fit(x, y, epochs=10, verbose=0,
          callbacks=[WeightRecorder(out, notes="origin demo: weights approach [1, 1]")])

print("final weights:", model.layers[0].kernel.numpy().ravel(), "->", out)
