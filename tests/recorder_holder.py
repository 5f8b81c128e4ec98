"""Run by test_recorder_failures.py: hold a recording open as its writer until stdin closes."""

import sys

import numpy as np

from weightreel.formats import RecordingWriter

with RecordingWriter(sys.argv[1]) as writer:
    writer.append({"w": np.arange(3, dtype=np.float32)})
    writer.commit()
    print("holding", flush=True)
    sys.stdin.read()
