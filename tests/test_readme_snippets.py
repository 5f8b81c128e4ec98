"""The README's per-framework snippets run as written (each section's python block)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

from weightreel.formats import open_recording

SECTION = "## Recording other frameworks"


def snippets() -> dict[str, str]:
    """The python block of each `###` section under SECTION, by the file it writes."""
    text = (ROOT / "README.md").read_text()
    part = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", part, re.S)
    return {re.findall(r'"(\w+\.h5)"', b)[0]: b for b in blocks}


def run(code: str, cwd) -> None:
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_each_framework_has_a_snippet():
    assert sorted(snippets()) == ["flax.h5", "hf.h5", "keras_jax.h5", "lightning.h5",
                                  "torch.h5"]


def test_readme_snippets_run_as_written(tmp_path):
    found = snippets()
    run(found.pop("keras_jax.h5"), tmp_path)  # its own process: it picks Keras' backend
    # The others share one process (each in a fresh namespace), to import torch once.
    program = "\n".join(f"exec({code!r}, {{}})" for code in found.values())
    run(program, tmp_path)
    steps = {name: open_recording(tmp_path / name).num_steps for name in
             ["keras_jax.h5", *found]}
    assert steps == {"keras_jax.h5": 5, "torch.h5": 9, "lightning.h5": 9, "hf.h5": 5,
                     "flax.h5": 20}
    assert open_recording(tmp_path / "keras_jax.h5").metadata["versions"]["keras_backend"] \
        == "jax"
