"""`weightreel view` where Qt's X11 plugin lacks system libraries: one line and exit 2.

The plugin used is a copy of PyQt5's real libqxcb.so whose needed libxcb-icccm.so.4 is
renamed to libxcb-icccm.so.8, a library no system has: ldd really reports it "not found".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_support import assert_one_line_error, make_recording

from weightreel.viewer.qt_platform import (
    _pyqt_plugins,
    apt_package,
    missing_libraries,
    not_found,
    uses_xcb,
    xcb_problem,
)

NEEDED, ABSENT = b"libxcb-icccm.so.4\0", b"libxcb-icccm.so.8\0"


@pytest.fixture(scope="module")
def broken_plugins(tmp_path_factory) -> Path:
    """plugins/platforms/libqxcb.so (patched) with ../../lib pointing at PyQt5's Qt libraries,
    where the plugin's RUNPATH ($ORIGIN/../../lib) looks for them."""
    qt = Path(_pyqt_plugins())
    root = tmp_path_factory.mktemp("qt")
    (root / "lib").symlink_to(qt.parent / "lib")
    folder = root / "plugins" / "platforms"
    folder.mkdir(parents=True)
    data = (qt / "platforms" / "libqxcb.so").read_bytes()
    assert data.count(NEEDED) == 1
    (folder / "libqxcb.so").write_bytes(data.replace(NEEDED, ABSENT))
    return folder


def test_a_missing_library_is_found_in_real_ldd_output(broken_plugins: Path) -> None:
    plugin = str(broken_plugins / "libqxcb.so")
    output = subprocess.run(["ldd", plugin], capture_output=True, text=True).stdout
    assert "libxcb-icccm.so.8 => not found" in output
    assert "libxcb-icccm.so.8" in not_found(output)
    assert "libQt5XcbQpa.so.5" not in not_found(output)  # found through the RUNPATH
    assert "libxcb-icccm.so.8" in missing_libraries(plugin)


def test_package_names_follow_debian_naming() -> None:
    assert apt_package("libxcb-xinerama.so.0") == "libxcb-xinerama0"
    assert apt_package("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert apt_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert apt_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"


def test_only_xcb_on_an_x_display_is_checked() -> None:
    on_linux = sys.platform.startswith("linux")
    assert uses_xcb({"DISPLAY": ":0"}) is on_linux
    assert uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}) is on_linux
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert xcb_problem({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}) is None


def test_view_names_the_missing_libraries_and_the_install_command(broken_plugins: Path,
                                                                  tmp_path: Path) -> None:
    recording = make_recording(tmp_path / "run.h5")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QT_PLUGIN_PATH")}
    env.update(DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugins))
    before = recording.read_bytes()
    result = subprocess.run([sys.executable, "-m", "weightreel.viewer.cli", "view",
                             str(recording)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert_one_line_error(result, 2, "libxcb-icccm.so.8", "sudo apt-get install",
                          "libxcb-icccm8")
    assert "could not load" not in result.stderr and recording.read_bytes() == before

