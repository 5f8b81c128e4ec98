"""`weightreel view A.h5 B.h5`: the comparison window, or its screenshot (Qt imported inside)."""

from __future__ import annotations

import os
import sys


def launch_compare(path_a: str, path_b: str, step: int | None = None,
                   screenshot: str | None = None, variable: str | None = None) -> int:
    """Open the comparison of two recordings; with `screenshot`, save it as a PNG at global
    step `step` of A (None: A's last step) and exit. Returns the exit code."""
    from .app import _want_offscreen, application, save_png

    _want_offscreen(screenshot)
    app = application()
    from ._qt.compare_window import CompareWindow
    from .components.compare import Comparison

    comparison = Comparison(path_a, path_b)  # a bad file raises RecordingError: one line
    window = CompareWindow(comparison, (os.path.basename(path_a), os.path.basename(path_b)))
    pair = _pair(comparison, variable)
    if pair is not None:
        window.select(pair)
    steps = list(int(s) for s in comparison.steps_a)
    if step is not None and step in steps:
        window.set_index(steps.index(step))
    elif screenshot is not None and steps:
        window.set_index(len(steps) - 1)
    window.resize(1500, 900)
    window.show()
    if screenshot is None:
        return int(app.exec_())
    for _ in range(5):
        app.processEvents()
    ok = save_png(window, screenshot)
    window.close()
    if not ok:
        print(f"weightreel: cannot write screenshot {screenshot}", file=sys.stderr)
        return 2
    return 0


def _pair(comparison, variable: str | None) -> tuple[str, str] | None:
    if variable is None:
        return None
    for a, b in comparison.matching.pairs:
        if variable in (a, b) or a.endswith("/" + variable) or b.endswith("/" + variable):
            return a, b
    raise ValueError(f"--variable {variable!r} is not in both recordings")
