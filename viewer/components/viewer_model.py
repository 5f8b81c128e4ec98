"""ViewerModel: all of the viewer's Qt-free state in one object."""

from __future__ import annotations

from .curves import CurvesModel
from .dims import StepModel
from .events import Event
from .health import HealthModel
from .image_inputs import image_layers
from .layout import ImageLayout, layout_for
from .modes import check_mode
from .playback import PlaybackModel
from .recording import RecordingModel
from .scale import DEFAULT_SCALE, SCALES, ScaleChoice
from .selection import SelectionModel

COLOR_MODES = SCALES  # the colour scale: fixed over the run, per step, or robust per step


class ViewerModel:
    """The recording, the current step, the selection, playback and display options.

    Display options (each change emits `options_changed(name)`): `color_mode` (the scale,
    one of SCALES), `symlog`, `mode` (what views show: values or their change, see modes.py),
    `dense_as_images` / `input_image_shape`, whether every 2-D Dense kernel whose inputs form
    an image (a perfect square, or `input_image_shape`) shows as receptive fields
    (`layout_of`). Without it, only the Dense layers that the recorded model config shows to
    be fed an image do (`image_layers`, found when the file opens).

    Wires the parts together: opening a file sets the timeline and a default selection; growth
    extends the timeline and, in follow mode, moves to the newest step.
    """

    def __init__(self) -> None:
        self.recording = RecordingModel()
        self.dims = StepModel()
        self.playback = PlaybackModel()
        self.selection = SelectionModel()
        self.curves = CurvesModel(self.recording)
        self.health = HealthModel(self.recording)
        self.color_mode = DEFAULT_SCALE
        self.symlog = False
        self.mode = "value"
        self.dense_as_images = False
        self.input_image_shape: tuple[int, int] | None = None
        self.image_layers: dict[str, tuple[int, int]] = {}  # Dense layers fed an image
        self.options_changed = Event()  # (option name)
        self.recording.opened.connect(self._on_opened)
        self.recording.reopened.connect(self._on_reopened)
        self.recording.grown.connect(self._on_grown)
        self.recording.closed.connect(self._on_closed)

    def set_color_mode(self, mode: str) -> None:
        """The scale: 'fixed' over the run ('run' says the same), 'step' or 'robust'."""
        mode = "fixed" if mode == "run" else mode
        ScaleChoice(mode)  # checks it
        if mode != self.color_mode:
            self.color_mode = mode
            self.options_changed.emit("color_mode")

    def set_symlog(self, on: bool) -> None:
        if bool(on) != self.symlog:
            self.symlog = bool(on)
            self.options_changed.emit("color_mode")

    @property
    def scale_choice(self) -> ScaleChoice:
        return ScaleChoice(self.color_mode, self.symlog)

    def set_mode(self, mode: str) -> None:
        """Show values ('value'), W − W₀ ('since-start') or Wₜ − Wₜ₋₁ ('per-step')."""
        if check_mode(mode) != self.mode:
            self.mode = mode
            self.options_changed.emit("mode")

    def set_dense_as_images(self, on: bool) -> None:
        if bool(on) != self.dense_as_images:
            self.dense_as_images = bool(on)
            self.options_changed.emit("dense_as_images")

    def set_input_image_shape(self, shape: tuple[int, int] | None) -> None:
        """The (height, width) of the network's input images, for Dense inputs that are not
        a perfect square (None: square ones only)."""
        shape = None if shape is None else (int(shape[0]), int(shape[1]))
        if shape != self.input_image_shape:
            self.input_image_shape = shape
            self.options_changed.emit("input_image_shape")

    def layout_of(self, variable) -> ImageLayout:
        """How a variable (a VariableInfo: shape, recorded layout and layer; or just a shape)
        is laid out as an image with the current options."""
        shape, axes, layer = tuple(getattr(variable, "shape", variable)), "", ""
        if hasattr(variable, "shape"):
            axes, layer = getattr(variable, "layout", ""), variable.layer
        image = self.image_layers.get(layer)
        wanted = self.dense_as_images or image is not None
        return layout_for(shape, wanted, self.input_image_shape or image, axes)

    def jump_to_first_nonfinite(self) -> bool:
        """Go to the first step with NaN/Inf weights (else a non-finite scalar); False if none."""
        row = self.health.first_nonfinite
        if row is None:
            return False
        self.playback.set_playing(False)
        self.dims.set_index(row)
        return True

    def open(self, path: str, step: int | None = None) -> None:
        """Open a recording (raises RecordingError) and optionally go to global step `step`."""
        self.recording.open(path)
        if step is not None:
            self.dims.go_to_step(step)

    def _on_opened(self, path: str) -> None:
        self.image_layers = image_layers(self.recording.rec.metadata.get("model_config"))
        self.playback.set_playing(False)
        self.selection.clear()
        self.dims.index = 0
        self.dims.set_timeline(*self.recording.timeline())
        self.dims.changed.emit(self.dims.index)
        self.selection.set_names(default_selection(self.recording))
        if self.playback.follow:
            self.dims.go_last()

    def _on_reopened(self, path: str) -> None:
        variables = self.recording.rec.variables
        kept = [n for n in self.selection.names if n in variables]
        for name in [n for n in self.selection.picks if n not in variables]:
            self.selection.clear_picks(name)
        self.selection.set_names(kept or default_selection(self.recording))

    def _on_grown(self, num_steps: int) -> None:
        self.dims.set_timeline(*self.recording.timeline())
        self.playback.on_grown(self.dims)

    def _on_closed(self) -> None:
        self.selection.clear()
        self.dims.set_timeline(*([],) * 3)


def default_selection(recording: RecordingModel) -> list[str]:
    """The first kernel-like variable (2-D or more), else the first variable."""
    rec = recording.rec
    if rec is None or not rec.variable_names:
        return []
    for name, info in rec.variables.items():
        if len(info.shape) >= 2:
            return [name]
    return [rec.variable_names[0]]
