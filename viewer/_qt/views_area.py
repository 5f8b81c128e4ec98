"""ViewsArea: one VariableView per selected variable, in a grid, all on the one timeline.

As many columns as fit with every view at its minimum width (view_sizes.py); rows that do
not fit the height scroll. No panel is ever squeezed below its minimum size.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from ..components import ViewerModel
from ..components.selection import MAX_VIEWS
from .loader import FrameLoader
from .variable_view import VariableView
from .view_sizes import apply_minimums, least_height

HINT = ("Open a recording with File ▸ Open (Ctrl+O) or drop one here.\n"
        "Then pick variables on the left (Ctrl-click for several, side by side).")
SPACING = 4
RELEASE_MS = 250  # a view not laid out by then (a hidden window) reads its frame anyway


class _ViewsGrid(QGridLayout):
    """The views' grid. When every view fits the viewport, it fills the viewport.

    A view's word-wrapped labels make its layout height-for-width, and QScrollArea then
    sizes the grid to its preferred height for the width, not to the viewport: one view at
    the default window size used to scroll, its lower panels cut off. ViewsArea sets `fits`
    when the views' minimum heights (their wrapped labels included) fit the viewport.
    Otherwise the grid scrolls, each view at its preferred height.
    """

    fits = False

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return not self.fits and super().hasHeightForWidth()


class ViewsArea(QWidget):
    """Creates and removes views as the selection changes, and arranges them; nothing else."""

    def __init__(self, model: ViewerModel, loader: FrameLoader,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.loader = model, loader
        self.views: dict[str, VariableView] = {}
        self.columns = 1
        self.order: list[str] = []  # the views' names, in the order selected
        self.hint = QLabel(HINT)
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setStyleSheet("color: #666; font-size: 13px;")
        self.notice = QLabel()
        self.notice.setStyleSheet("background:#fff4ce; padding:3px;")
        self.notice.hide()
        self.grid_host = QWidget()
        self.grid = _ViewsGrid(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(SPACING)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setWidget(self.grid_host)
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.notice)
        column.addWidget(self.scroll, 1)
        self.page = page
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(page)
        model.selection.changed.connect(self._sync)

    def _sync(self, names: list[str]) -> None:
        for name in [n for n in self.views if n not in names]:
            view = self.views.pop(name)
            view.detach()
            view.setParent(None)
            view.deleteLater()
        rec = self.model.recording.rec
        for name in names:
            if name not in self.views and rec is not None and name in rec.variables:
                self.views[name] = self._make_view(name)
        self.order = [n for n in names if n in self.views]
        self._show_notice()
        self._arrange(force=True)
        self._fit_height()
        self.stack.setCurrentWidget(self.page if self.views else self.hint)

    def _make_view(self, name: str) -> VariableView:
        """A view whose first frame is read once it has its size (or after RELEASE_MS)."""
        self.loader.hold(name)
        view = VariableView(self.model, self.loader, name)
        apply_minimums(view)
        view.heatmap.plot.vb.sigTransformChanged.connect(
            lambda *_: self.loader.release(name))  # after the view's own: its stride is set
        QTimer.singleShot(RELEASE_MS, lambda: self.loader.release(name))
        return view

    def _show_notice(self) -> None:
        asked = self.model.selection.asked
        shown = len(self.views)
        self.notice.setVisible(asked > shown and shown > 0)
        self.notice.setText(f"Showing {shown} of the {asked} variables selected: at most "
                            f"{MAX_VIEWS} views at once.")

    def fitting_columns(self) -> int:
        """How many views fit side by side, each at least its minimum width."""
        views = list(self.views.values())
        if not views:
            return 1
        least = max(v.minimumSizeHint().width() for v in views) + SPACING
        usable = self.width() - self.scroll.verticalScrollBar().sizeHint().width()
        return max(1, min(len(views), usable // least))

    def _arrange(self, force: bool = False) -> None:
        columns = self.fitting_columns()
        if columns == self.columns and not force:
            return
        self.columns = columns
        for view in self.views.values():
            self.grid.removeWidget(view)
        for k in range(self.grid.rowCount()):
            self.grid.setRowStretch(k, 0)
        for k in range(self.grid.columnCount()):
            self.grid.setColumnStretch(k, 0)
        for position, name in enumerate(self.order):
            row, col = divmod(position, columns)
            self.grid.addWidget(self.views[name], row, col)
            self.grid.setRowStretch(row, 1)
            self.grid.setColumnStretch(col, 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()
        self._fit_height()

    def _fit_height(self) -> None:
        """Let the grid fill the viewport if every row of views fits it at its minimum."""
        views = list(self.views.values())
        fits = False
        if views:
            rows = -(-len(views) // self.columns)
            usable = self.width() - self.scroll.verticalScrollBar().sizeHint().width()
            width = max(1, usable // self.columns - SPACING)
            need = rows * max(least_height(v, width) for v in views) + SPACING * (rows - 1)
            # This area's own height: in its resizeEvent the scroll area is not resized yet.
            notice = self.notice.sizeHint().height() if self.notice.isVisibleTo(self) else 0
            fits = need <= self.height() - notice
        if fits != self.grid.fits:
            self.grid.fits = fits
            self.grid.invalidate()
            self.grid_host.updateGeometry()
