"""Typed node parameters.

A parameter is declared as a class attribute of a node type::

    class SplitData(Node):
        fraction = FloatParam(0.7, minimum=0.0, maximum=1.0, help="...")

It is a descriptor: on a node instance ``self.fraction`` reads the validated
value. ``validate`` turns a raw value (from a file, the CLI or the GUI) into
the canonical one or raises :class:`ParameterError` naming the node, the
parameter, the value and what is allowed. Every canonical value is plain JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from nodes.errors import ParameterError

_MISSING = object()
#: Whole numbers beyond this (18 digits) are refused: no node needs them, and
#: they would overflow the 64-bit integers numpy and scikit-learn work with.
_LARGEST_INT = 10**18 - 1
#: The longest text a string parameter holds (script code, typed-in tables).
MAX_TEXT = 1_000_000


class Param:
    """Base of all parameter kinds."""

    kind = "param"

    def __init__(self, default: Any, *, label: str | None = None, help: str = "",
                 advanced: bool = False) -> None:
        self.default = default
        self.label = label
        self.help = help
        self.advanced = advanced
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.label is None:
            self.label = name.replace("_", " ").capitalize()

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.params[self.name]

    def validate(self, value: Any, node: str = "?") -> Any:
        """Return the canonical form of ``value`` or raise ParameterError."""
        raise NotImplementedError

    def completeness_problem(self, value: Any, node: str = "?") -> ParameterError | None:
        """Why a well-formed value still leaves the node unfinished (checked
        before a run, not while editing), or None."""
        return None

    def describe(self) -> dict[str, Any]:
        """What the GUI and `studio nodes` need to show and edit this parameter."""
        return {"name": self.name, "kind": self.kind, "label": self.label,
                "default": self.default, "help": self.help, "advanced": self.advanced}

    def _fail(self, node: str, value: Any, allowed: str) -> ParameterError:
        return ParameterError(node, self.name, value, allowed)


class IntParam(Param):
    """A whole number, optionally bounded (bounds inclusive)."""

    kind = "int"

    def __init__(self, default: int, *, minimum: int | None = None,
                 maximum: int | None = None, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def validate(self, value: Any, node: str = "?") -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self._fail(node, value, f"it must be {self._range_text()}")
        if isinstance(value, int):
            number = value
        else:
            try:
                parsed = float(value)
            except (ValueError, OverflowError):
                raise self._fail(node, value, f"it must be {self._range_text()}") from None
            if not math.isfinite(parsed) or parsed != int(parsed):
                raise self._fail(node, value, f"it must be {self._range_text()}")
            number = int(parsed)
        if abs(number) > _LARGEST_INT:
            raise self._fail(node, value, f"it must be {self._range_text()} of at most 18 "
                                          "digits")
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise self._fail(node, value, f"it must be {self._range_text()}")
        return number

    def _range_text(self) -> str:
        return "a whole number" + _bounds_text(self.minimum, self.maximum)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "minimum": self.minimum, "maximum": self.maximum}


class FloatParam(Param):
    """A finite real number, optionally bounded; bounds may be exclusive."""

    kind = "float"

    def __init__(self, default: float, *, minimum: float | None = None,
                 maximum: float | None = None, exclusive_minimum: bool = False,
                 exclusive_maximum: bool = False, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.exclusive_maximum = exclusive_maximum

    def validate(self, value: Any, node: str = "?") -> float:
        allowed = f"it must be a number{self._bounds()}"
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self._fail(node, value, allowed)
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise self._fail(node, value, allowed) from None
        if not math.isfinite(number):
            raise self._fail(node, value, allowed)
        low, high = self.minimum, self.maximum
        if low is not None and (number < low or (self.exclusive_minimum and number == low)):
            raise self._fail(node, value, allowed)
        if high is not None and (number > high or (self.exclusive_maximum and number == high)):
            raise self._fail(node, value, allowed)
        return number

    def _bounds(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(("> " if self.exclusive_minimum else ">= ") + f"{self.minimum:g}")
        if self.maximum is not None:
            parts.append(("< " if self.exclusive_maximum else "<= ") + f"{self.maximum:g}")
        return (" " + " and ".join(parts)) if parts else ""

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "minimum": self.minimum, "maximum": self.maximum,
                "exclusive_minimum": self.exclusive_minimum,
                "exclusive_maximum": self.exclusive_maximum}


class BoolParam(Param):
    """True or false (the strings true/false/yes/no/1/0 are accepted too)."""

    kind = "bool"
    _WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

    def validate(self, value: Any, node: str = "?") -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in self._WORDS:
            return self._WORDS[value.strip().lower()]
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self._fail(node, value, "it must be true or false")


class ChoiceParam(Param):
    """One of a fixed list of strings."""

    kind = "choice"

    def __init__(self, default: str, choices: Sequence[str], **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.choices = tuple(choices)
        if default not in self.choices:
            raise ValueError(f"default {default!r} is not one of {self.choices}")

    def validate(self, value: Any, node: str = "?") -> str:
        if isinstance(value, str) and value in self.choices:
            return value
        if isinstance(value, str):
            # Be forgiving about case and spaces, never about meaning.
            folded = {c.lower().replace(" ", "_"): c for c in self.choices}
            key = value.strip().lower().replace(" ", "_").replace("-", "_")
            if key in folded:
                return folded[key]
        raise self._fail(node, value, "it must be one of " + ", ".join(map(repr, self.choices)))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "choices": list(self.choices)}


class SeedParam(Param):
    """A random seed: a whole number >= 0, or None ("inherit"): the seed then
    follows the workflow seed (``studio run --seed``), derived per node.

    Empty text and the word "inherit" mean None too, so a text field can
    clear it. See :class:`nodes.contract.Randomness`.
    """

    kind = "seed"

    def __init__(self, default: int | None = None, **kwargs: Any) -> None:
        kwargs["help"] = (kwargs.get("help") or "Random seed.").rstrip() + (
            " Empty (inherit): derived from the workflow seed.")
        super().__init__(default, **kwargs)
        self._number = IntParam(0, minimum=0, maximum=2**32 - 1)

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self._number.name = name

    def validate(self, value: Any, node: str = "?") -> int | None:
        if value is None or (isinstance(value, str)
                             and value.strip().lower() in ("", "inherit", "none", "null")):
            return None
        try:
            return self._number.validate(value, node)
        except ParameterError:
            raise self._fail(node, value, "it must be a whole number from 0 to 4294967295, "
                                          "or empty to inherit the workflow seed") from None


class StringParam(Param):
    """Free text; ``allow_empty=False`` makes it required.

    ``code=True`` marks text that runs as code (Execute Python Script): such
    a parameter can never be set from the command line or by a web-service
    request, and its node must declare ``needs_trust``.
    """

    kind = "string"

    def __init__(self, default: str = "", *, allow_empty: bool = True,
                 multiline: bool = False, code: bool = False,
                 max_length: int = MAX_TEXT, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.allow_empty = allow_empty
        self.multiline = multiline
        self.code = code
        self.max_length = max_length

    def validate(self, value: Any, node: str = "?") -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                value = str(value)
            except ValueError:  # an integer too long to print
                raise self._fail(node, value, "it must be text") from None
        if not isinstance(value, str):
            raise self._fail(node, value, "it must be text")
        if len(value) > self.max_length:
            raise self._fail(node, value, f"it must be at most {self.max_length:,} characters "
                                          f"long (it has {len(value):,})")
        return value

    def completeness_problem(self, value: Any, node: str = "?") -> ParameterError | None:
        if not self.allow_empty and not str(value).strip():
            return self._fail(node, value, "it must not be empty")
        return None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "allow_empty": self.allow_empty,
                "multiline": self.multiline, "code": self.code}


class ColumnParam(Param):
    """Column names of an input table: one column, or several (``multiple``).

    The names can only be checked against the data when the node runs; here
    the form is checked. ``input_port`` says which input's schema the GUI
    offers in its column picker. An empty value means "use the default"
    (the node's docstring says what that is).
    """

    kind = "columns"

    def __init__(self, default: str | list[str] | None = None, *, input_port: str = "data",
                 multiple: bool = False, **kwargs: Any) -> None:
        if default is None:
            default = [] if multiple else ""
        super().__init__(default, **kwargs)
        self.input_port = input_port
        self.multiple = multiple

    def validate(self, value: Any, node: str = "?") -> str | list[str]:
        if self.multiple:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise self._fail(node, value, "it must be a list of column names")
            if len(set(value)) != len(value):
                raise self._fail(node, value, "each column may be listed only once")
            return list(value)
        if not isinstance(value, str):
            raise self._fail(node, value, "it must be one column name")
        return value

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "input_port": self.input_port, "multiple": self.multiple}


class ListParam(Param):
    """A list of items, each validated by ``item`` (a Param) or a callable.

    Used for layer stacks and value lists; every item must be plain JSON.
    """

    kind = "list"

    def __init__(self, default: list[Any] | None = None, *, item: Param | None = None,
                 item_validator: Callable[[Any, str], Any] | None = None,
                 min_items: int = 0, max_items: int | None = None, **kwargs: Any) -> None:
        super().__init__(list(default or []), **kwargs)
        self.item = item
        self.item_validator = item_validator
        self.min_items = min_items
        self.max_items = max_items

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        if self.item is not None:
            self.item.name = f"{name}[]"

    def validate(self, value: Any, node: str = "?") -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise self._fail(node, value, "it must be a list")
        too_many = self.max_items is not None and len(value) > self.max_items
        if len(value) < self.min_items or too_many:
            raise self._fail(node, value,
                             "it must have " + _count_text(self.min_items, self.max_items))
        result = []
        for index, entry in enumerate(value):
            try:
                if self.item is not None:
                    entry = self.item.validate(entry, node)
                if self.item_validator is not None:
                    entry = self.item_validator(entry, node)
            except ParameterError as error:
                raise ParameterError(node, f"{self.name}[{index}]", entry, error.allowed) from None
            result.append(entry)
        return result

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "item": self.item.describe() if self.item else None,
                "min_items": self.min_items, "max_items": self.max_items}


def _bounds_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def _count_text(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"at least {minimum} item(s)"
    return f"between {minimum} and {maximum} items"
