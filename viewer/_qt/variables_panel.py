"""VariablesPanel: the model's layers and variables (shape, dtype, role) with a filter box."""

from __future__ import annotations

from PyQt5.QtCore import QItemSelectionModel, Qt
from PyQt5.QtGui import QBrush, QColor
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..components import ViewerModel
from ..components.roles import role_text
from .plain import plain_tip

NAME_ROLE = Qt.UserRole


LAYER_ROLE = Qt.UserRole + 1
COLUMN_GAP = 6  # pixels added between the text of neighbouring columns
MIN_WIDTH, MAX_WIDTH = 250, 460  # the panel widens to show its columns, up to MAX_WIDTH
COLLAPSE_ABOVE = 40  # a model with more variables opens with its layers collapsed
FROZEN = QColor(120, 120, 120)  # non-trainable variables are greyed


def _layer_of(name: str, layer: str) -> str:
    return layer or (name.rsplit("/", 1)[0] if "/" in name else "(model)")


def leaf_of(name: str, layer: str) -> str:
    """A variable's own name under its layer: 'moving_variance' for 'model/bn1/moving_variance'
    in layer 'bn1' (what follows the layer's part of the path; else the last part)."""
    if name.startswith(layer + "/"):
        return name[len(layer) + 1:]
    at = name.rfind("/" + layer + "/")
    if layer and at >= 0:
        return name[at + len(layer) + 2:]
    return name.rsplit("/", 1)[-1]


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
        self.tree.headerItem().setToolTip(
            3, "What the variable is to its layer, where its name does not say (e.g. a "
               "'weight' that is a kernel)")
        self.tree.header().setStretchLastSection(True)
        self.setMinimumWidth(MIN_WIDTH)
        self.expand_button = _tool_button("⊞", "Expand all layers", self.tree.expandAll)
        self.collapse_button = _tool_button("⊟", "Collapse all layers", self.tree.collapseAll)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.expand_button)
        top.addWidget(self.collapse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
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
                title = f"{layer} · {info.layer_class}" if info.layer_class else layer
                parent = QTreeWidgetItem([title])
                parent.setData(0, LAYER_ROLE, layer)
                parent.setToolTip(0, plain_tip(title))
                parent.setFlags(Qt.ItemIsEnabled)
                layers[layer] = parent
                self.tree.addTopLevelItem(parent)
                parent.setFirstColumnSpanned(True)  # the layer's title never widens a column
            shape = "×".join(str(s) for s in info.shape) or "scalar"
            leaf = leaf_of(name, layer)
            item = QTreeWidgetItem([leaf, shape, info.dtype, role_text(info)])
            item.setData(0, NAME_ROLE, name)
            tip = f"{name}  ({info.size:,} values, stored as {info.stored_dtype})"
            if not info.trainable:
                tip += ", not trained by the optimizer (e.g. BatchNorm statistics)"
            for col in range(4):
                item.setToolTip(col, plain_tip(tip))
                if not info.trainable:
                    item.setForeground(col, QBrush(FROZEN))
            parent.addChild(item)
        self.tree.expandAll()  # columns are sized to every row, not only the rows shown
        self._size_columns()
        if rec is not None and len(rec.variables) > COLLAPSE_ABOVE:
            self.tree.collapseAll()
        self.tree.blockSignals(False)
        self.apply_filter(self.filter.text())
        self._show_selection(self.model.selection.names)

    def _size_columns(self) -> None:
        """Every column as wide as its text (names, shape, dtype, role), and the panel wide
        enough to show them all, up to MAX_WIDTH (then the last column, role, is cut)."""
        tree = self.tree
        for col in range(3):  # the layers' titles span the row: they do not count
            tree.resizeColumnToContents(col)
            tree.setColumnWidth(col, tree.columnWidth(col) + COLUMN_GAP)
        role = max(tree.sizeHintForColumn(3), tree.header().sectionSizeHint(3))
        tree.setColumnWidth(3, role)  # stretched to the edge, from this width
        margins = self.layout().contentsMargins()
        needed = (sum(tree.columnWidth(col) for col in range(3)) + role + COLUMN_GAP
                  + 2 * tree.frameWidth() + margins.left() + margins.right()
                  + tree.verticalScrollBar().sizeHint().width())
        self.setMinimumWidth(min(max(needed, MIN_WIDTH), MAX_WIDTH))
        if needed > MAX_WIDTH:  # cut the role (its tooltip has it), never scroll sideways
            tree.setColumnWidth(3, max(tree.header().sectionSizeHint(3), role - needed + MAX_WIDTH))

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
            layer_match = needle in top.data(0, LAYER_ROLE).lower()
            shown = 0
            for j in range(top.childCount()):
                child = top.child(j)
                hay = " ".join([child.data(0, NAME_ROLE), child.text(2), child.text(3)]).lower()
                hide = bool(needle) and not (layer_match or needle in hay)
                child.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)
            if needle and shown:  # what matches is seen, even under a collapsed layer
                top.setExpanded(True)

    def _selection_edited(self) -> None:
        names = [it.data(0, NAME_ROLE) for it in self.variable_items() if it.isSelected()]
        if names:
            self.model.selection.set_names(names)

    def _show_selection(self, names: list[str]) -> None:
        """Select the shown variables, opening their layers and scrolling to the first."""
        self.tree.blockSignals(True)
        first = None
        for item in self.variable_items():
            selected = item.data(0, NAME_ROLE) in names
            item.setSelected(selected)
            if selected:
                item.parent().setExpanded(True)
                first = first or item
        self.tree.blockSignals(False)
        if first is not None:
            self.tree.setCurrentItem(first, 0, QItemSelectionModel.NoUpdate)
            self.tree.scrollToItem(first, QAbstractItemView.PositionAtCenter)


def _tool_button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button
