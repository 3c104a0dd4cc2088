"""What the engine and the web service must know about a node, declared on its class.

Nothing here is inferred from type ids or attribute guesses: a node type
states, as class attributes,

- ``scoring_role`` (a :class:`ScoringRole`): what happens to the node when
  the workflow is published as a web service;
- ``randomness`` (a :class:`Randomness` or None): whether it draws random
  numbers, and which of its parameters is its own seed;
- ``side_effects`` (a :class:`SideEffect`): whether it changes anything
  outside the cache (writes a file), so a cache hit must not stand in for it;
- ``accepts_missing_values`` (learners): whether the model it gives trains on
  rows with missing feature values;
- ``trusted_types`` (learners of plugins): the fully qualified names of the
  types inside its fitted model that the safe model format (skops) may load;
- ``partitioning`` (a :class:`Partitioning`, per parameters through
  ``partitioning_for``): how it takes a table that stays in partitions on
  Dask workers (nodes/partitions.py).

``check_declarations`` is run by the registry on every node type it
registers, so a plugin with a wrong declaration is reported when it loads,
not when a service gives a wrong answer. docs/node-api.md explains each
declaration with a complete example node.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nodes.node import Node


class ScoringRole(enum.Enum):
    """What a node is in a published scoring pipeline."""

    #: Each output row is computed from its own input row and values fixed
    #: before the request (parameters, a trained model, a fitted transform):
    #: safe to run on every request, whatever other rows come with it.
    ROW_WISE = "row_wise"
    #: Fits something on the rows it gets (a scaler's means, percentiles...)
    #: and offers it on its ``fitted_transform_port``; a service applies what
    #: it fitted in training (Apply Transformation), never fits on a request.
    FITTED = "fitted"
    #: Training, evaluation or data preparation only (datasets, splits,
    #: learners, Train Model, Evaluate Model): left out of a service; the
    #: request rows enter after it.
    TRAINING_ONLY = "training_only"
    #: Must not run inside a service (it writes files, runs stored code,
    #: simulates hardware): a scoring path through it is refused.
    NOT_IN_SERVICE = "not_in_service"
    #: Loads a value fixed when the service was exported (a trained model, a
    #: fitted transform): run once when the service starts.
    FROZEN_VALUE = "frozen_value"
    #: Not declared: a scoring path through it is refused at export.
    UNDECLARED = "undeclared"


class ServiceBoundary(enum.Enum):
    """The two nodes that mark where requests enter and answers leave."""

    INPUT = "input"
    OUTPUT = "output"


class CompiledStep(enum.Enum):
    """Per-request steps the service's compiled numpy plan can do itself
    (studio.serve.fastpath); any other node keeps the request on the node path."""

    #: Apply the fitted Transform on input ``transform`` to input ``data``.
    APPLY_TRANSFORM = "apply_transform"
    #: Predict with the Model on input ``model`` for the rows on input ``data``.
    SCORE = "score"


class SideEffect(enum.Enum):
    """Whether running a node changes anything outside the engine's cache."""

    NONE = "none"
    #: Writes files: never satisfied by a cache hit; it runs again every time.
    WRITES_FILES = "writes_files"


class Partitioning(enum.Enum):
    """How a node takes a table that comes in partitions (nodes/partitions.py)."""

    #: It needs every row at once: the partitions are gathered into one table
    #: on one worker, if they fit in its memory budget (else a clear refusal).
    WHOLE_TABLE = "whole_table"
    #: Each output row depends on its own input row and on nothing else of
    #: the table: ``run`` is called once per partition of ``partition_input``.
    ROWS = "rows"
    #: ``run_partitions`` reads ``partition_input`` one partition at a time
    #: (statistics, a few columns) and gives its outputs.
    STREAM = "stream"
    #: A data source: ``plan_partitions`` says how to read its output in blocks.
    SOURCE = "source"


@dataclass(frozen=True)
class Randomness:
    """A node that draws random numbers.

    ``seed_param`` names its own seed parameter (a :class:`nodes.params.SeedParam`),
    or is None when it has none and always follows the workflow seed. A seed
    parameter left at "inherit" (None) takes a seed derived from the workflow
    seed and the node id; that derived seed is what the node runs with, what
    its cache key holds and what the run record shows.
    """

    seed_param: str | None = "seed"


class DeclarationError(TypeError):
    """A node type whose declarations contradict each other or its ports."""


def check_declarations(node_type: type[Node]) -> None:
    """Raise DeclarationError when ``node_type``'s declarations do not hold together."""
    from nodes.params import SeedParam
    from nodes.ports import TRANSFORM

    name = f"{node_type.__module__}.{node_type.__qualname__}"
    if not isinstance(node_type.scoring_role, ScoringRole):
        raise DeclarationError(f"{name}.scoring_role must be a ScoringRole")
    if not isinstance(node_type.side_effects, SideEffect):
        raise DeclarationError(f"{name}.side_effects must be a SideEffect")
    if node_type.scoring_role is ScoringRole.FITTED:
        port = node_type.outputs.get(node_type.fitted_transform_port or "")
        if port is None or port.type is not TRANSFORM:
            raise DeclarationError(
                f"{name} declares scoring_role FITTED, so fitted_transform_port must name "
                f"one of its Transform outputs (it is {node_type.fitted_transform_port!r})")
    _check_partitioning(node_type, name)
    randomness = node_type.randomness
    if randomness is not None:
        if not isinstance(randomness, Randomness):
            raise DeclarationError(f"{name}.randomness must be a Randomness or None")
        if randomness.seed_param is not None and not isinstance(
                node_type.parameters.get(randomness.seed_param), SeedParam):
            raise DeclarationError(f"{name}.randomness names the seed parameter "
                                   f"{randomness.seed_param!r}, which is not a SeedParam")
    seeds = [n for n, p in node_type.parameters.items() if isinstance(p, SeedParam)]
    if seeds and (randomness is None or randomness.seed_param not in seeds):
        raise DeclarationError(f"{name} has the seed parameter {seeds[0]!r} but does not "
                               "declare randomness = Randomness(seed_param=...)")
    code = [n for n, p in node_type.parameters.items() if getattr(p, "code", False)]
    if code and not node_type.needs_trust:
        raise DeclarationError(f"{name} has the code parameter {code[0]!r}, so it must "
                               "declare needs_trust = True")
    for merged, old_ports in node_type.merged_inputs.items():
        port = node_type.inputs.get(merged)
        if port is None or not port.multiple:
            raise DeclarationError(f"{name}.merged_inputs maps old ports onto {merged!r}, "
                                   "which is not a multiple input")
        if set(old_ports) & set(node_type.inputs):
            raise DeclarationError(f"{name}.merged_inputs lists current ports as old ones")


def _check_partitioning(node_type: type[Node], name: str) -> None:
    from nodes.node import Node
    from nodes.ports import TABLE

    kind = node_type.partitioning
    if not isinstance(kind, Partitioning):
        raise DeclarationError(f"{name}.partitioning must be a Partitioning")
    if kind in (Partitioning.ROWS, Partitioning.STREAM):
        port = node_type.inputs.get(node_type.partition_input)
        if port is None or port.type is not TABLE or port.multiple:
            raise DeclarationError(
                f"{name} declares partitioning {kind.name}, so partition_input must name one "
                f"of its single Table inputs (it is {node_type.partition_input!r})")
    if kind is Partitioning.ROWS and any(o.type is not TABLE
                                         for o in node_type.outputs.values()):
        raise DeclarationError(f"{name} declares partitioning ROWS, so every output must be "
                               "a Table (a per-partition model or metric would be wrong)")
    if kind is Partitioning.STREAM and node_type.run_partitions is Node.run_partitions:
        raise DeclarationError(f"{name} declares partitioning STREAM but does not define "
                               "run_partitions")
    if kind is Partitioning.SOURCE and (node_type.inputs
                                        or node_type.plan_partitions is Node.plan_partitions):
        raise DeclarationError(f"{name} declares partitioning SOURCE, so it takes no input "
                               "and defines plan_partitions")


def seed_in_use(node_type: type[Node], params: Mapping[str, Any], run_seed: int,
                node_id: str) -> int | None:
    """The seed a node runs with: its own seed parameter when set, else one derived
    from the run seed and the node id; None for nodes that draw no random numbers."""
    from nodes.context import derive_seed

    randomness = node_type.randomness
    if randomness is None:
        return None
    if randomness.seed_param is not None:
        own = params.get(randomness.seed_param)
        if own is not None:
            return int(own)
    return derive_seed(run_seed, node_id)


def params_in_use(node_type: type[Node], params: Mapping[str, Any], run_seed: int,
                  node_id: str) -> dict[str, Any]:
    """``params`` with an inherited seed parameter replaced by the seed in use, so
    the node, its cache key and the run record all see the same number."""
    resolved = dict(params)
    randomness = node_type.randomness
    if randomness is not None and randomness.seed_param is not None:
        resolved[randomness.seed_param] = seed_in_use(node_type, params, run_seed, node_id)
    return resolved
