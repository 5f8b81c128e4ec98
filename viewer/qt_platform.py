"""Whether Qt's X11 platform plugin (xcb) can load, checked before a QApplication exists.

Without the system libraries that PyQt5's libqxcb.so links to (libxcb-xinerama0,
libxcb-icccm4, libxcb-keysyms1, ...), Qt prints "could not load the Qt platform plugin xcb"
and aborts the process. Asking `ldd` first lets `weightreel view` name the missing
libraries and the command that installs them, in one line, and exit 2 instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping

PLUGIN = "libqxcb.so"
LDD_TIMEOUT_S = 10.0
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found\s*$", re.MULTILINE)
_SONAME = re.compile(r"^(lib[\w+.-]*?)\.so\.(\d+)")


def not_found(ldd_output: str) -> list[str]:
    """The libraries `ldd` reports as "not found", each once, in the order it lists them."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def apt_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships `soname`, by Debian's naming rule: libfoo.so.1 is
    in libfoo1, and libfoo-x11.so.0 (a name ending in a digit) in libfoo-x11-0."""
    match = _SONAME.match(soname)
    if match is None:
        return soname
    name, version = match.group(1).lower().replace("_", "-"), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_libraries(library: str) -> list[str]:
    """The shared libraries `library` needs that the dynamic linker cannot find (empty when
    all are found, or when ldd cannot tell: then Qt gets to try)."""
    ldd = shutil.which("ldd")
    if ldd is None or not os.path.isfile(library):
        return []
    try:
        result = subprocess.run([ldd, library], capture_output=True, text=True,
                                timeout=LDD_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return not_found(result.stdout)


def xcb_plugin(env: Mapping[str, str]) -> str | None:
    """The libqxcb.so Qt would load: from QT_QPA_PLATFORM_PLUGIN_PATH, the folders of
    QT_PLUGIN_PATH, or PyQt5's own plugins folder."""
    folders = []
    if env.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        folders.append(env["QT_QPA_PLATFORM_PLUGIN_PATH"])
    for folder in filter(None, env.get("QT_PLUGIN_PATH", "").split(os.pathsep)):
        folders.append(os.path.join(folder, "platforms"))
    folders.append(os.path.join(_pyqt_plugins(), "platforms"))
    for folder in folders:
        path = os.path.join(folder, PLUGIN)
        if os.path.isfile(path):
            return path
    return None


def _pyqt_plugins() -> str:
    from PyQt5.QtCore import QLibraryInfo  # QtCore alone needs no display libraries

    return QLibraryInfo.location(QLibraryInfo.PluginsPath)


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will pick the xcb plugin: on Linux with an X display, unless another
    platform is asked for."""
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    return (sys.platform.startswith("linux") and bool(env.get("DISPLAY"))
            and platform in ("", "xcb"))


def xcb_problem(env: Mapping[str, str] | None = None) -> str | None:
    """One line naming the libraries Qt's xcb plugin lacks and how to install them, or None
    when nothing is missing (or the plugin will not be used)."""
    env = os.environ if env is None else env
    if not uses_xcb(env):
        return None
    plugin = xcb_plugin(env)
    missing = missing_libraries(plugin) if plugin else []
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(apt_package(m) for m in missing))
    return (f"the viewer cannot open a window: Qt's X11 plugin ({plugin}) needs "
            f"{', '.join(missing)}, not installed; on Debian/Ubuntu: "
            f"sudo apt-get install {packages}")
