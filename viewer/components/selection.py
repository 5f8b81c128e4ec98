"""SelectionModel: which variables are shown (one view each) and which weights are picked."""

from __future__ import annotations

from .events import Event

MAX_VIEWS = 12  # more are refused with a notice (ViewsArea), never silently
MAX_PICKS = 12


class SelectionModel:
    """The variables shown side by side, and per variable the elements whose trajectories show."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.asked = 0  # how many variables the last set_names asked for (maybe > MAX_VIEWS)
        self.picks: dict[str, list[tuple[int, ...]]] = {}
        self.changed = Event()  # (names)
        self.picks_changed = Event()  # (name)

    def set_names(self, names: list[str]) -> None:
        names = list(dict.fromkeys(names))
        self.asked = len(names)
        names = names[:MAX_VIEWS]
        if names != self.names:
            self.names = names
            self.changed.emit(list(names))

    def add(self, name: str) -> None:
        if name not in self.names:
            self.set_names([*self.names, name][-MAX_VIEWS:])

    def remove(self, name: str) -> None:
        self.set_names([n for n in self.names if n != name])

    def clear(self) -> None:
        self.picks.clear()
        self.set_names([])

    def picked(self, name: str) -> list[tuple[int, ...]]:
        return list(self.picks.get(name, []))

    def toggle_pick(self, name: str, element: tuple[int, ...]) -> None:
        """Add an element's trajectory, or remove it if it is already shown."""
        element = tuple(int(e) for e in element)
        current = self.picks.setdefault(name, [])
        if element in current:
            current.remove(element)
        else:
            current.append(element)
            del current[:-MAX_PICKS]
        self.picks_changed.emit(name)

    def clear_picks(self, name: str) -> None:
        if self.picks.pop(name, None):
            self.picks_changed.emit(name)
