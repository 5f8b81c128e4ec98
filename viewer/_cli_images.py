"""Heatmap pictures and animations of one variable (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import numpy as np

FIG_SIZE = (6.4, 4.8)  # inches; at DPI this is 640 x 480 pixels (even, as H.264 needs)
DPI = 100
CMAP = "RdBu_r"
Progress = Callable[[int, int], None]
AXIS_LABELS = {0: "", 1: "element", 2: "column (rows: first axis)",
               3: "last axis (rows: leading axes)",
               4: "tiles: rows = input channels, columns = output channels"}


def heatmap_layout(values: np.ndarray) -> np.ndarray:
    """A 2-D picture of an array of any rank: the viewer's own layout, so pictures match it.

    0-D and 1-D: one row. 2-D: as is. 4-D conv kernels (kh, kw, in, out): a grid of kh x kw
    filters, one row of tiles per input channel and one column per output channel, with
    one-pixel NaN gaps. 3-D and 5-D+: leading axes flattened into rows, the last as columns.
    """
    from weightreel.viewer.components.layout import ImageLayout

    a = np.asarray(values)
    return ImageLayout(tuple(a.shape)).to_image(a)


def symmetric_limit(lo: float, hi: float) -> float:
    """The colour limit L for a diverging scale -L..L centred at zero."""
    limit = float(np.nanmax(np.abs([lo, hi]))) if np.isfinite([lo, hi]).any() else 1.0
    return limit if np.isfinite(limit) and limit > 0 else 1.0


def _figure(picture: np.ndarray, limit: float, title: str, rank: int) -> tuple[Any, Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIG_SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps[CMAP].copy()
    cmap.set_bad("#d9d9d9")
    h, w = picture.shape
    aspect = "equal" if 1 / 8 <= h / w <= 8 else "auto"
    image = ax.imshow(picture, cmap=cmap, vmin=-limit, vmax=limit, aspect=aspect,
                      interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    heading = ax.set_title(title, fontsize=10)
    ax.set_xlabel(AXIS_LABELS.get(rank, "last axis"), fontsize=9)
    return fig, image, heading


def _title(rec, name: str, row: int) -> str:
    return (f"{name}  step {int(rec.steps[row])}  "
            f"(epoch {int(rec.epochs[row])}, batch {int(rec.batches[row])})")


def export_png(rec, out: str, name: str, row: int) -> None:
    """A heatmap of variable `name` at timeline position `row`, with a colour bar."""
    values = rec.read(name, row)
    picture = heatmap_layout(values)
    limit = symmetric_limit(np.nanmin(picture), np.nanmax(picture)) if np.isfinite(
        picture).any() else 1.0
    fig, _, _ = _figure(picture, limit, _title(rec, name, row), np.ndim(values))
    fig.savefig(out, format="png")


def frame_rows(rows: np.ndarray, max_frames: int) -> np.ndarray:
    """At most `max_frames` of `rows`, evenly spread, first and last included."""
    if rows.size <= max_frames:
        return rows
    picks = np.unique(np.linspace(0, rows.size - 1, max_frames).round().astype(int))
    return rows[picks]


def export_animation(rec, out: str, name: str, rows: np.ndarray, fmt: str, fps: float = 10.0,
                     progress: Progress | None = None) -> None:
    """An animation (gif or mp4) of variable `name` over timeline positions `rows`.

    The colour levels are fixed over the whole range (from the recorded min/max summaries).
    """
    lows = rec.summary_column(name, "min")[rows]
    highs = rec.summary_column(name, "max")[rows]
    limit = symmetric_limit(np.nanmin(lows), np.nanmax(highs)) if np.isfinite(
        np.concatenate([lows, highs])).any() else 1.0
    values = rec.read(name, int(rows[0]))
    fig, image, heading = _figure(heatmap_layout(values), limit, _title(rec, name, int(rows[0])),
                                  np.ndim(values))
    frames = _frames(rec, name, rows, fig, image, heading, progress)
    if fmt == "gif":
        _write_gif(out, frames, fps)
    else:
        _write_mp4(out, frames, fps, fig)


def _frames(rec, name, rows, fig, image, heading, progress):
    for k, row in enumerate(rows):
        image.set_data(heatmap_layout(rec.read(name, int(row))))
        heading.set_text(_title(rec, name, int(row)))
        fig.canvas.draw()
        yield np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
        if progress is not None:
            progress(k + 1, rows.size)


def _write_gif(out: str, frames, fps: float) -> None:
    from PIL import Image

    pictures = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
                for f in frames]
    pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=max(int(round(1000 / fps)), 20), loop=0, optimize=False)


def find_ffmpeg() -> str | None:
    """The ffmpeg program: imageio-ffmpeg's own if installed, else one on PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def _write_mp4(out: str, frames, fps: float, fig) -> None:
    exe = find_ffmpeg()
    if exe is None:
        raise ValueError("mp4 export needs ffmpeg: pip install imageio-ffmpeg "
                           "(or install ffmpeg), or use --to gif")
    width, height = (int(round(x)) for x in fig.canvas.get_width_height())
    cmd = [exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", "-an", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", "-f", "mp4", out]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    except BaseException:
        proc.kill()
        proc.wait()
        _remove(out)
        raise
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    if proc.wait() != 0:
        _remove(out)
        raise ValueError(f"{out}: ffmpeg failed: {err.splitlines()[-1] if err else 'no message'}")


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
