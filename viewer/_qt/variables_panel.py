"""VariablesPanel: the model's layers and variables (shape, dtype, role) with a filter box."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..components import ViewerModel

NAME_ROLE = Qt.UserRole


def _layer_of(name: str, layer: str) -> str:
    return layer or (name.rsplit("/", 1)[0] if "/" in name else "(model)")


class VariablesPanel(QWidget):
    """Selecting variables here (Ctrl/Shift-click for several) sets the views shown."""

    def __init__(self, model: ViewerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter variables…")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Variable", "Shape", "Dtype", "Role"])
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setToolTip("Ctrl- or Shift-click to show several variables side by side")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.filter.textChanged.connect(self.apply_filter)
        self.tree.itemSelectionChanged.connect(self._selection_edited)
        model.recording.opened.connect(lambda _p: self.rebuild())
        model.recording.closed.connect(self.rebuild)
        model.selection.changed.connect(self._show_selection)

    def rebuild(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        rec = self.model.recording.rec
        layers: dict[str, QTreeWidgetItem] = {}
        for name, info in (rec.variables.items() if rec else []):
            layer = _layer_of(name, info.layer)
            parent = layers.get(layer)
            if parent is None:
                parent = QTreeWidgetItem([layer, info.layer_class, "", ""])
                parent.setFlags(Qt.ItemIsEnabled)
                layers[layer] = parent
                self.tree.addTopLevelItem(parent)
            shape = "×".join(str(s) for s in info.shape) or "scalar"
            leaf = name[len(layer) + 1:] if name.startswith(layer + "/") else name
            item = QTreeWidgetItem([leaf, shape, info.dtype, info.role])
            item.setData(0, NAME_ROLE, name)
            item.setToolTip(0, f"{name}  ({info.size:,} values, stored as {info.stored_dtype})")
            parent.addChild(item)
        self.tree.expandAll()
        for col in range(4):
            self.tree.resizeColumnToContents(col)
        self.tree.blockSignals(False)
        self.apply_filter(self.filter.text())
        self._show_selection(self.model.selection.names)

    def variable_items(self) -> list[QTreeWidgetItem]:
        items = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            items += [top.child(j) for j in range(top.childCount())]
        return items

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            layer_match = needle in top.text(0).lower()
            shown = 0
            for j in range(top.childCount()):
                child = top.child(j)
                hay = " ".join([child.data(0, NAME_ROLE), child.text(2), child.text(3)]).lower()
                hide = bool(needle) and not (layer_match or needle in hay)
                child.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)

    def _selection_edited(self) -> None:
        names = [it.data(0, NAME_ROLE) for it in self.variable_items() if it.isSelected()]
        if names:
            self.model.selection.set_names(names)

    def _show_selection(self, names: list[str]) -> None:
        self.tree.blockSignals(True)
        for item in self.variable_items():
            item.setSelected(item.data(0, NAME_ROLE) in names)
        self.tree.blockSignals(False)
