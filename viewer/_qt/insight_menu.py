"""InsightActions: the View menu's scale, mode and layer-overview entries, and their dock.

Kept apart from main_window.py: it only adds menu entries and one dock to the window, and
observes the model like any widget.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QAction, QActionGroup, QDockWidget, QMainWindow, QMenu

from ..components import MODE_LABELS, MODES, SCALES, ViewerModel
from ..components.scale import SCALE_LABELS
from .overview import OverviewWidget

MODE_KEYS = {"value": "Ctrl+1", "since-start": "Ctrl+2", "per-step": "Ctrl+3"}
OVERVIEW_KEY = "O"


class InsightActions:
    """View ▸ Scale (fixed / per step / robust, symmetric log), View ▸ Show (values, change
    since start, change per step: Ctrl+1/2/3) and View ▸ Layer overview (O)."""

    def __init__(self, window: QMainWindow, view_menu: QMenu) -> None:
        self.model: ViewerModel = window.model
        scale_menu = view_menu.addMenu("Colour &scale")
        self.scale_actions = self._group(window, scale_menu, SCALES, SCALE_LABELS,
                                         self.model.set_color_mode, {})
        scale_menu.addSeparator()
        self.symlog_action = QAction("S&ymmetric log", window, checkable=True)
        self.symlog_action.triggered.connect(self.model.set_symlog)
        scale_menu.addAction(self.symlog_action)
        show_menu = view_menu.addMenu("S&how")
        self.mode_actions = self._group(window, show_menu, MODES, MODE_LABELS,
                                        self.model.set_mode, MODE_KEYS)
        self.overview = OverviewWidget(self.model)
        self.dock = QDockWidget("Layer overview", window)
        self.dock.setObjectName("overview-dock")
        self.dock.setWidget(self.overview)
        window.addDockWidget(Qt.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.overview_action = self.dock.toggleViewAction()
        self.overview_action.setText("Layer &overview")
        self.overview_action.setShortcut(OVERVIEW_KEY)
        view_menu.addAction(self.overview_action)
        self.dock.visibilityChanged.connect(
            lambda on: on and not self.dock.isFloating() and window.resizeDocks(
                [self.dock], [self.overview.preferred_height()], Qt.Vertical))
        view_menu.addSeparator()
        self.model.options_changed.connect(self._sync)
        self._sync("")

    @staticmethod
    def _group(window, menu: QMenu, keys, labels, slot, shortcuts) -> dict[str, QAction]:
        group = QActionGroup(window)
        actions = {}
        for key in keys:
            action = QAction(labels[key][:1].upper() + labels[key][1:], window, checkable=True)
            if key in shortcuts:
                action.setShortcut(shortcuts[key])
            action.triggered.connect(lambda _=False, k=key: slot(k))
            group.addAction(action)
            menu.addAction(action)
            actions[key] = action
        return actions

    def _sync(self, _name: str) -> None:
        self.scale_actions[self.model.color_mode].setChecked(True)
        self.symlog_action.setChecked(self.model.symlog)
        self.mode_actions[self.model.mode].setChecked(True)

    def show_overview(self, on: bool = True) -> None:
        self.dock.setVisible(on)
