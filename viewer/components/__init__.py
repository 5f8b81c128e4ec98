"""Qt-free state of the viewer: recording, current step, selection, playback (napari-style).

Each model is a plain Python object announcing its changes through `Event`s; the Qt widgets in
`weightreel.viewer._qt` observe them and never call each other.
"""

from .cache import FrameCache
from .colors import ColorScale, one_signed, symmetric_limit
from .curves import Curve, CurvesModel
from .dims import StepModel
from .events import Event
from .health import HealthModel
from .layout import ImageLayout, format_element, gap_mask, input_image, layout_for
from .modes import MODE_LABELS, MODE_SYMBOLS, MODES, mode_values
from .playback import PlaybackModel
from .recording import RecordingModel, StaleReadError
from .scale import SCALES, FromData, ScaleChoice, resolve, value_scale
from .selection import SelectionModel
from .viewer_model import COLOR_MODES, ViewerModel

__all__ = [
    "ColorScale",
    "COLOR_MODES",
    "Curve",
    "CurvesModel",
    "Event",
    "FrameCache",
    "HealthModel",
    "ImageLayout",
    "PlaybackModel",
    "RecordingModel",
    "SelectionModel",
    "StaleReadError",
    "StepModel",
    "ViewerModel",
    "FromData",
    "MODES",
    "MODE_LABELS",
    "MODE_SYMBOLS",
    "SCALES",
    "ScaleChoice",
    "gap_mask",
    "mode_values",
    "resolve",
    "value_scale",
    "format_element",
    "input_image",
    "layout_for",
    "one_signed",
    "symmetric_limit",
]
