"""ViewsArea: one VariableView per selected variable, side by side, all on the one timeline."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QSplitter, QStackedLayout, QWidget

from ..components import ViewerModel
from .loader import FrameLoader
from .variable_view import VariableView

HINT = ("Open a recording with File ▸ Open (Ctrl+O) or drop one here.\n"
        "Then pick variables on the left (Ctrl-click for several, side by side).")


class ViewsArea(QWidget):
    """Creates and removes views as the selection changes; nothing else."""

    def __init__(self, model: ViewerModel, loader: FrameLoader,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.loader = model, loader
        self.views: dict[str, VariableView] = {}
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.hint = QLabel(HINT)
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setStyleSheet("color: #666; font-size: 13px;")
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.splitter)
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
                self.views[name] = VariableView(self.model, self.loader, name)
        for position, name in enumerate(n for n in names if n in self.views):
            self.splitter.insertWidget(position, self.views[name])
        if self.views:
            self.splitter.setSizes([1000] * len(self.views))
        self.stack.setCurrentWidget(self.splitter if self.views else self.hint)
