"""Port types and port declarations.

A port type is a name with a meaning (``Table``, ``Model``...). Two ports can
be wired when the output's type is the input's type, or the input accepts
``Any``. Port types know nothing of the GUI; the GUI picks colours and
viewers by ``PortType.name``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortType:
    """A kind of value that flows along a wire."""

    name: str
    description: str

    def accepts(self, source: PortType) -> bool:
        """True when an output of type ``source`` may feed an input of this type."""
        return self is ANY or self.name == source.name

    def refusal(self, source: PortType) -> str | None:
        """Why ``source`` cannot feed this type, or None when it can."""
        if self.accepts(source):
            return None
        return f"a {source.name} output cannot feed a {self.name} input"


TABLE = PortType("Table", "A table of rows and columns, with column roles "
                 "(feature, label, score, id, ignore).")
LEARNER = PortType("Learner", "An untrained model specification: an algorithm and its settings.")
MODEL = PortType("Model", "A trained model and the schema of the data it expects.")
TRANSFORM = PortType("Transform", "A fitted transformation to apply to new data the same way.")
METRICS = PortType("Metrics", "Evaluation results: named scalars, matrices and curves.")
HARDWARE_REPORT = PortType("HardwareReport", "Accuracy, latency, energy and resources of "
                           "a model run on a (simulated) hardware backend.")
ANY = PortType("Any", "Any value.")

PORT_TYPES = {t.name: t for t in (TABLE, LEARNER, MODEL, TRANSFORM, METRICS, HARDWARE_REPORT, ANY)}


class Port:
    """Base of Input and Output: a named, typed, documented port."""

    def __init__(self, type: PortType, *, label: str | None = None, help: str = "") -> None:
        self.type = type
        self.label = label
        self.help = help
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.label is None:
            self.label = name.replace("_", " ").capitalize()

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "type": self.type.name, "label": self.label, "help": self.help}


class Input(Port):
    """An input port; ``optional`` inputs may stay unconnected.

    A ``multiple`` input takes any number of wires; ``run`` then gets a list
    of their values in the order the wires were made (an empty list when an
    optional one has none).
    """

    def __init__(self, type: PortType, *, optional: bool = False, multiple: bool = False,
                 **kwargs: object) -> None:
        super().__init__(type, **kwargs)  # type: ignore[arg-type]
        self.optional = optional
        self.multiple = multiple

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "optional": self.optional, "multiple": self.multiple}


class Output(Port):
    """An output port."""
