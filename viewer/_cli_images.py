"""Heatmap pictures and animations of one variable (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import numpy as np

DPI = 100
IMAGE_MAX = (5.0, 4.4)  # inches: the largest heatmap drawn
MARGINS = (1.8, 1.5)  # inches around the heatmap: colour bar, ticks, labels, title
FIG_MIN = (3.6, 2.8)  # inches: the smallest figure (room for the title and colour bar)
FIG_MAX = (6.8, 5.8)
MAX_CELL = 0.5  # inches: the largest drawn cell (a 2x1 variable is not blown up)
TITLE_POINTS = 10
TITLE_MIN_POINTS = 7
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


def figure_size(rows: int, cols: int) -> tuple[float, float]:
    """Figure inches for a rows x cols picture: sized to its aspect within limits, so a narrow
    variable does not sit in a mostly empty frame. Whole, even pixel counts (H.264 needs them).
    """
    ratio = min(max(rows / max(cols, 1), 1 / 8), 8)  # pictures beyond 8:1 are stretched
    if ratio <= IMAGE_MAX[1] / IMAGE_MAX[0]:
        width, height = IMAGE_MAX[0], IMAGE_MAX[0] * ratio
    else:
        width, height = IMAGE_MAX[1] / ratio, IMAGE_MAX[1]
    cell = min(width / max(cols, 1), height / max(rows, 1))
    if cell > MAX_CELL:  # a few big cells: draw them smaller
        width, height = width * MAX_CELL / cell, height * MAX_CELL / cell
    fig_w = min(max(width + MARGINS[0], FIG_MIN[0]), FIG_MAX[0])
    fig_h = min(max(height + MARGINS[1], FIG_MIN[1]), FIG_MAX[1])
    return tuple(2 * round(x * DPI / 2) / DPI for x in (fig_w, fig_h))  # type: ignore[return-value]


NON_FINITE_RGBA = ((np.nan, (1.0, 0.0, 1.0, 1.0)), (np.inf, (0.0, 0.0, 0.0, 1.0)),
                   (-np.inf, (0.0, 0.9, 1.0, 1.0)))  # as the viewer: magenta, black, cyan


def scale_of(rec, name: str, row: int, choice=None):
    """The viewer's colour scale (components/scale.py) of `name` at timeline position `row`."""
    from weightreel.viewer.components.scale import ScaleChoice, run_limits, value_scale

    rows = np.asarray(rec.summary(name), np.float64)
    return value_scale(rows, row, choice or ScaleChoice(), True, run_limits(rows))


def norm_of(scale) -> Any:
    """A matplotlib norm for a ColorScale (linear, or symmetric-log), or for ±a number."""
    from matplotlib.colors import Normalize, SymLogNorm

    from weightreel.viewer.components import ColorScale

    if not isinstance(scale, ColorScale):
        scale = ColorScale.centred(scale)

    if scale.linthresh > 0:
        return SymLogNorm(scale.linthresh, vmin=scale.low, vmax=scale.high, base=10)
    return Normalize(scale.low, scale.high)


def non_finite_overlay(picture: np.ndarray) -> np.ndarray:
    """RGBA: NaN, +Inf and −Inf cells in their colours (the gaps between tiles stay clear)."""
    from weightreel.viewer.components.layout import gap_mask

    rgba = np.zeros((*picture.shape, 4))
    gaps = gap_mask(picture)
    for value, colour in NON_FINITE_RGBA:
        cells = np.isnan(picture) & ~gaps if np.isnan(value) else picture == value
        rgba[cells] = colour
    return rgba


def _figure(picture: np.ndarray, scale: Any, title: str, rank: int) -> tuple[Any, Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    h, w = picture.shape
    fig = Figure(figsize=figure_size(h, w), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad="#d9d9d9")
    aspect = "equal" if 1 / 8 <= h / w <= 8 else "auto"
    image = ax.imshow(picture, cmap=cmap, norm=norm_of(scale), aspect=aspect,
                      interpolation="nearest")
    overlay = ax.imshow(non_finite_overlay(picture), aspect=aspect, interpolation="nearest")
    image.overlay = overlay  # redrawn with each frame
    for axis in (ax.xaxis, ax.yaxis):  # cells are whole numbers: no ticks at -0.5, 0.25, ...
        axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    fig.colorbar(image, ax=ax, shrink=0.9)
    ax.set_xlabel(AXIS_LABELS.get(rank, "last axis"), fontsize=9)
    heading = fig.suptitle(title, fontsize=TITLE_POINTS)
    chars = fit_title(fig, heading)
    fig.set_layout_engine("none")  # keep the layout fixed from frame to frame

    def retitle(text: str) -> None:  # later frames: the same size, wrapped the same way
        heading.set_text(text if chars is None else _wrapped(text, chars))

    return fig, image, retitle


def fit_title(fig: Any, heading: Any) -> float | None:
    """Shrink the title (down to TITLE_MIN_POINTS), then wrap it at '/', until it fits the
    figure's width; the layout is redone for the final title. Returns the characters per line
    it was wrapped to, or None."""
    fig.canvas.draw()
    width = fig.canvas.get_width_height()[0] - 8
    renderer = fig.canvas.get_renderer()
    size = TITLE_POINTS
    while heading.get_window_extent(renderer).width > width and size > TITLE_MIN_POINTS:
        size -= 1
        heading.set_fontsize(size)
    chars = None
    if heading.get_window_extent(renderer).width > width:
        chars = width / (0.62 * size * DPI / 72)
        heading.set_text(_wrapped(heading.get_text(), chars))
    fig.canvas.draw()
    return chars


def _wrapped(text: str, chars: float) -> str:
    out = []
    for line in text.splitlines():
        parts = line.replace("/", "/\n").splitlines()
        current = ""
        for part in parts:
            if current and len(current) + len(part) > chars:
                out.append(current)
                current = ""
            current += part
        out.append(current)
    return "\n".join(out)


def _title(rec, name: str, row: int) -> str:
    return (f"{name}\nstep {int(rec.steps[row])}  "
            f"(epoch {int(rec.epochs[row])}, batch {int(rec.batches[row])})")


def export_png(rec, out: str, name: str, row: int, choice=None) -> None:
    """A heatmap of variable `name` at timeline position `row`, with a colour bar, on the
    viewer's colour scale `choice` (a ScaleChoice; default robust)."""
    values = rec.read(name, row)
    picture = heatmap_layout(values)
    fig, _, _ = _figure(picture, scale_of(rec, name, row, choice), _title(rec, name, row),
                        np.ndim(values))
    fig.savefig(out, format="png")


def frame_rows(rows: np.ndarray, max_frames: int) -> np.ndarray:
    """At most `max_frames` of `rows`, evenly spread, first and last included."""
    if rows.size <= max_frames:
        return rows
    picks = np.unique(np.linspace(0, rows.size - 1, max_frames).round().astype(int))
    return rows[picks]


def export_animation(rec, out: str, name: str, rows: np.ndarray, fmt: str, fps: float = 10.0,
                     progress: Progress | None = None, choice=None) -> None:
    """An animation (gif or mp4) of variable `name` over timeline positions `rows`, on the
    viewer's colour scale `choice` (a ScaleChoice; default robust, fitted to each frame)."""
    values = rec.read(name, int(rows[0]))
    scales = [scale_of(rec, name, int(row), choice) for row in rows]
    fig, image, retitle = _figure(heatmap_layout(values), scales[0],
                                  _title(rec, name, int(rows[0])), np.ndim(values))
    frames = _frames(rec, name, rows, fig, image, retitle, progress, scales)
    if fmt == "gif":
        _write_gif(out, frames, fps)
    else:
        _write_mp4(out, frames, fps, fig)


def _frames(rec, name, rows, fig, image, retitle, progress, scales):
    for k, row in enumerate(rows):
        picture = heatmap_layout(rec.read(name, int(row)))
        image.set_data(picture)
        image.overlay.set_data(non_finite_overlay(picture))
        if k and scales[k] != scales[k - 1]:
            image.set_norm(norm_of(scales[k]))
        retitle(_title(rec, name, int(row)))
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
