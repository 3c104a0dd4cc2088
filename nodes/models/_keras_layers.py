"""The layer stack of a Keras network as plain JSON: checking it, and building it.

A layer is a dict such as ``{"type": "dense", "units": 512, "activation":
"relu"}``. Checking needs no TensorFlow (it runs whenever a parameter is
edited); building receives the ``keras`` module from the caller, so this
module never imports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nodes.errors import ParameterError
from nodes.params import ListParam

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "swish")
PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class Field:
    """One setting of a layer type: its default and the values it may take."""

    kind: str  # int | float | choice | shape
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "default": self.default, "help": self.help,
                "minimum": self.minimum, "maximum": self.maximum,
                "exclusive_maximum": self.exclusive_maximum, "choices": list(self.choices)}


def _activation(default: str) -> Field:
    return Field("choice", default, "Activation function.", choices=ACTIVATIONS)


def _positive(default: int, text: str) -> Field:
    return Field("int", default, text, minimum=1)


_PADDING = Field("choice", "valid", "'valid': no padding, the output shrinks; 'same': "
                 "zero padding keeps the size.", choices=PADDINGS)

#: Layer type -> (what it does, its settings). Everything the GUI needs to edit a stack.
LAYER_TYPES: dict[str, tuple[str, dict[str, Field]]] = {
    "dense": ("Fully connected layer.", {
        "units": _positive(64, "Number of units (outputs)."),
        "activation": _activation("relu")}),
    "dropout": ("Sets a random share of its inputs to 0 while training.", {
        "rate": Field("float", 0.5, "Share of inputs dropped.", minimum=0.0, maximum=1.0,
                      exclusive_maximum=True)}),
    "batch_normalization": ("Normalises its inputs with batch statistics.", {}),
    "rescaling": ("Multiplies its inputs by 'scale' and adds 'offset' (e.g. 1/16 for "
                  "pixel counts 0-16).", {
        "scale": Field("float", 1.0, "Factor."),
        "offset": Field("float", 0.0, "Added after scaling.")}),
    "reshape": ("Gives each row a shape, e.g. [8, 8, 1] for 8x8 one-channel images.", {
        "shape": Field("shape", [1], "Target shape of one row (without the batch axis).")}),
    "conv1d": ("1-D convolution over sequences (steps, channels).", {
        "filters": _positive(32, "Number of filters."),
        "kernel_size": _positive(3, "Window length."),
        "strides": _positive(1, "Step between windows."),
        "padding": _PADDING,
        "activation": _activation("relu")}),
    "conv2d": ("2-D convolution over images (height, width, channels).", {
        "filters": _positive(32, "Number of filters."),
        "kernel_size": _positive(3, "Square window side."),
        "strides": _positive(1, "Step between windows."),
        "padding": _PADDING,
        "activation": _activation("relu")}),
    "max_pooling1d": ("Maximum over windows of a sequence.", {
        "pool_size": _positive(2, "Window length.")}),
    "max_pooling2d": ("Maximum over square windows of an image.", {
        "pool_size": _positive(2, "Square window side.")}),
    "global_average_pooling1d": ("Average over the steps of a sequence.", {}),
    "global_max_pooling1d": ("Maximum over the steps of a sequence.", {}),
    "global_average_pooling2d": ("Average over the pixels of an image, per channel.", {}),
    "flatten": ("Turns each row into a flat vector.", {}),
    "embedding": ("Maps word indices (0 .. input_dim-1) to learned vectors; input: a "
                  "sequence of indices.", {
        "input_dim": _positive(10000, "Vocabulary size: largest index + 1."),
        "output_dim": _positive(16, "Length of each word vector.")}),
    "multi_hot": ("Turns a sequence of indices (0 .. num_tokens-1) into a 0/1 vector of "
                  "num_tokens entries: 1 where the index occurs.", {
        "num_tokens": _positive(10000, "Vocabulary size: largest index + 1.")}),
}

#: Layers whose input is integer indices rather than real numbers.
INDEX_LAYERS = ("embedding", "multi_hot")


def layer_schema() -> dict[str, Any]:
    """The layer types and their settings, as plain JSON (for GUI editors)."""
    return {name: {"help": text, "fields": {k: f.describe() for k, f in fields.items()}}
            for name, (text, fields) in LAYER_TYPES.items()}


def validate_layer(entry: Any, node: str = "?") -> dict[str, Any]:
    """The canonical form of one layer (every setting filled in), or ParameterError."""
    where = "layers[]"
    known = ", ".join(LAYER_TYPES)
    if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
        raise ParameterError(node, where, entry,
                             f"each layer must be an object with a 'type' (one of {known})")
    kind = entry["type"].strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in LAYER_TYPES:
        raise ParameterError(node, where, entry, f"layer type {entry['type']!r} is not one "
                             f"of {known}")
    fields = LAYER_TYPES[kind][1]
    unknown = sorted(set(entry) - set(fields) - {"type"})
    if unknown:
        settings = ", ".join(fields) or "none"
        raise ParameterError(node, where, entry, f"a {kind} layer has no setting "
                             f"{', '.join(map(repr, unknown))} (its settings: {settings})")
    result: dict[str, Any] = {"type": kind}
    for name, spec in fields.items():
        value = entry.get(name, spec.default)
        checked = _check_field(spec, value)
        if checked is None:
            raise ParameterError(node, where, entry,
                                 f"a {kind} layer's {name!r} must be {_allowed(spec)}")
        result[name] = checked
    return result


def _check_field(spec: Field, value: Any) -> Any:
    """The canonical value, or None when ``value`` is not allowed."""
    if spec.kind == "choice":
        if not isinstance(value, str) or value.strip().lower() not in spec.choices:
            return None
        return value.strip().lower()
    if spec.kind == "shape":
        if (not isinstance(value, (list, tuple)) or not value
                or not all(_whole(v) and v >= 1 for v in value)):
            return None
        return [int(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if spec.kind == "int":
        if not _whole(value):
            return None
        value = int(value)
    else:
        value = float(value)
    if spec.minimum is not None and value < spec.minimum:
        return None
    if spec.maximum is not None and (value > spec.maximum or
                                     (spec.exclusive_maximum and value == spec.maximum)):
        return None
    return value


def _whole(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(value) and value == int(value))


def _allowed(spec: Field) -> str:
    if spec.kind == "choice":
        return "one of " + ", ".join(map(repr, spec.choices))
    if spec.kind == "shape":
        return "a non-empty list of whole numbers >= 1, e.g. [8, 8, 1]"
    text = "a whole number" if spec.kind == "int" else "a number"
    if spec.minimum is not None:
        text += f" >= {spec.minimum:g}"
    if spec.maximum is not None:
        text += (" and < " if spec.exclusive_maximum else " and <= ") + f"{spec.maximum:g}"
    return text


class LayerStackParam(ListParam):
    """A list of layers (dicts with a 'type' and its settings), checked per layer.

    ``describe()`` adds ``layer_types``: every layer type with its settings,
    defaults and allowed values, so a GUI can offer a form per layer.
    """

    def __init__(self, default: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(default, item_validator=validate_layer, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "layer_types": layer_schema()}


def describe_stack(layers: list[Mapping[str, Any]]) -> str:
    """``dense 512 relu -> dropout 0.5`` (for names and logs)."""
    parts = []
    for layer in layers:
        settings = [str(v) for k, v in layer.items() if k != "type"]
        parts.append(" ".join([layer["type"], *settings]))
    return " -> ".join(parts) or "(no hidden layers)"


# -- building (needs keras, passed in) ------------------------------------

def _builders(keras: Any) -> dict[str, Callable[[dict[str, Any]], Any]]:
    layers = keras.layers
    return {
        "dense": lambda s: layers.Dense(s["units"], activation=s["activation"]),
        "dropout": lambda s: layers.Dropout(s["rate"]),
        "batch_normalization": lambda s: layers.BatchNormalization(),
        "rescaling": lambda s: layers.Rescaling(s["scale"], offset=s["offset"]),
        "reshape": lambda s: layers.Reshape(tuple(s["shape"])),
        "conv1d": lambda s: layers.Conv1D(s["filters"], s["kernel_size"], strides=s["strides"],
                                          padding=s["padding"], activation=s["activation"]),
        "conv2d": lambda s: layers.Conv2D(s["filters"], s["kernel_size"], strides=s["strides"],
                                          padding=s["padding"], activation=s["activation"]),
        "max_pooling1d": lambda s: layers.MaxPooling1D(s["pool_size"]),
        "max_pooling2d": lambda s: layers.MaxPooling2D(s["pool_size"]),
        "global_average_pooling1d": lambda s: layers.GlobalAveragePooling1D(),
        "global_max_pooling1d": lambda s: layers.GlobalMaxPooling1D(),
        "global_average_pooling2d": lambda s: layers.GlobalAveragePooling2D(),
        "flatten": lambda s: layers.Flatten(),
        "embedding": lambda s: layers.Embedding(s["input_dim"], s["output_dim"]),
        "multi_hot": lambda s: layers.CategoryEncoding(s["num_tokens"], output_mode="multi_hot"),
    }


#: What a layer type needs as the shape of one row (without the batch axis).
_NEEDS_RANK = {"conv1d": 2, "max_pooling1d": 2, "global_average_pooling1d": 2,
               "global_max_pooling1d": 2, "conv2d": 3, "max_pooling2d": 3,
               "global_average_pooling2d": 3, "embedding": 1, "multi_hot": 1}


def build_stack(keras: Any, layers: list[dict[str, Any]], n_features: int,
                row_shape: list[int] | None = None) -> tuple[Any, Any]:
    """The Keras input and the output of the listed layers, or ValueError naming the layer.

    Rows arrive flat (``n_features`` values); ``row_shape`` (e.g. [8, 8, 1] for a
    column of images) reshapes them before the first layer.
    """
    builders = _builders(keras)
    inputs = keras.Input(shape=(n_features,), name="features")
    tensor = inputs if row_shape is None else keras.layers.Reshape(tuple(row_shape))(inputs)
    for index, spec in enumerate(layers, start=1):
        kind = spec["type"]
        shape = tuple(tensor.shape[1:])
        needed = _NEEDS_RANK.get(kind)
        if needed is not None and len(shape) != needed:
            raise ValueError(f"layer {index} ({kind}) needs rows of {needed} "
                             f"dimension(s), but gets rows of shape {list(shape)}. "
                             + _shape_hint(kind, shape))
        if kind == "reshape" and math.prod(spec["shape"]) != math.prod(shape):
            raise ValueError(f"layer {index} (reshape) cannot give rows of {math.prod(shape)} "
                             f"values the shape {spec['shape']} ({math.prod(spec['shape'])} "
                             f"values). {_shape_hint('conv2d', shape)}")
        try:
            tensor = builders[kind](spec)(tensor)
        except ValueError as error:
            raise ValueError(f"layer {index} ({kind}) cannot take rows of shape "
                             f"{list(shape)}: {error}") from None
    if len(tensor.shape) != 2:
        raise ValueError(f"the last layer gives rows of shape {list(tensor.shape[1:])}, but the "
                         "output layer needs flat rows. Add a 'flatten' or global pooling layer "
                         "at the end.")
    return inputs, tensor


def _shape_hint(kind: str, shape: tuple[int, ...]) -> str:
    size = math.prod(shape) if shape else 0
    side = math.isqrt(size)
    if _NEEDS_RANK.get(kind) == 3:
        example = [side, side, 1] if side * side == size else [size, 1, 1]
        return (f"Put a reshape layer before it, e.g. {{'type': 'reshape', 'shape': "
                f"{example}}} for {example[0]}x{example[1]} one-channel images.")
    if _NEEDS_RANK.get(kind) == 2:
        return ("Put an embedding layer before it (word indices), or a reshape layer such as "
                f"{{'type': 'reshape', 'shape': [{size}, 1]}}.")
    return "It must come first, on a table of word-index columns."
