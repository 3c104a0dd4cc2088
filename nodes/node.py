"""The declarative node API.

A node type is a class::

    class SplitData(Node):
        \"\"\"Split the rows of a table in two. (This docstring is the help text.)\"\"\"

        type_id = "split_data"
        version = 1
        title = "Split Data"
        category = "Transform"

        class Inputs:
            data = Input(TABLE)

        class Outputs:
            train = Output(TABLE)
            test = Output(TABLE)

        fraction = FloatParam(0.7, minimum=0.0, maximum=1.0, help="Share of rows in 'train'.")

        def run(self, ctx, data):
            ...
            return {"train": first, "test": second}

Parameters are validated when the node is built, so ``run`` only ever sees
valid values. ``migrate_params`` upgrades parameters saved by an older
``version``; ``replaces`` lists old type ids that still load as this type.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

from nodes.context import RunContext
from nodes.contract import (
    CompiledStep,
    Partitioning,
    Randomness,
    ScoringRole,
    ServiceBoundary,
    SideEffect,
)
from nodes.errors import ParameterError, UntrustedCodeError
from nodes.params import Param
from nodes.ports import Input, Output


class Node:
    """Base class of every node type. Subclasses declare; ``run`` computes."""

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    category: ClassVar[str] = "Other"
    replaces: ClassVar[tuple[str, ...]] = ()
    #: Other names users know this node by (Azure ML Studio classic module
    #: names such as "Two-Class Logistic Regression"); palette search matches them.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Nodes that run user-supplied code need the user's explicit trust.
    needs_trust: ClassVar[bool] = False

    # -- what the engine and the service must know (nodes/contract.py) --------
    #: What the node is in a published scoring pipeline.
    scoring_role: ClassVar[ScoringRole] = ScoringRole.UNDECLARED
    #: For scoring_role FITTED: the Transform output holding what it fitted.
    fitted_transform_port: ClassVar[str | None] = None
    #: Whether it draws random numbers (and its own seed parameter).
    randomness: ClassVar[Randomness | None] = None
    #: Whether it changes anything outside the cache (then it is never a cache hit).
    side_effects: ClassVar[SideEffect] = SideEffect.NONE
    #: Learners: whether their model trains on rows with missing feature values.
    accepts_missing_values: ClassVar[bool] = False
    #: Learners: types inside their fitted model that the safe model format may load
    #: ("package.module.Class"), beyond the ones skops trusts by default.
    trusted_types: ClassVar[tuple[str, ...]] = ()
    #: How it takes a table that stays in partitions on Dask workers (nodes/partitions.py).
    partitioning: ClassVar[Partitioning] = Partitioning.WHOLE_TABLE
    #: For ROWS and STREAM: the Table input that comes in partitions.
    partition_input: ClassVar[str] = "data"
    #: Modules ``run`` imports that are slow to import or unsafe to import from two
    #: threads at once (scikit-learn): imported under a lock before it first runs.
    imports: ClassVar[tuple[str, ...]] = ()
    #: Web Service Input / Output mark the boundary of a published pipeline.
    service_boundary: ClassVar[ServiceBoundary | None] = None
    #: A per-request step the service's compiled plan can do itself.
    compiled_step: ClassVar[CompiledStep | None] = None
    #: For FROZEN_VALUE nodes: the kind of stored value they load ("model", "transform").
    loads_stored_kind: ClassVar[str | None] = None
    #: Old input ports merged into a multiple input: {"reports": ("first", "second")};
    #: wires saved into the old ports load as wires into the new one, in that order.
    merged_inputs: ClassVar[dict[str, tuple[str, ...]]] = {}

    inputs: ClassVar[dict[str, Input]] = {}
    outputs: ClassVar[dict[str, Output]] = {}
    parameters: ClassVar[dict[str, Param]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.inputs = _collect_ports(cls, "Inputs", Input)
        cls.outputs = _collect_ports(cls, "Outputs", Output)
        params: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Param):
                    params[name] = value
                elif value is None and name in params:
                    del params[name]  # a subclass drops an inherited parameter
        cls.parameters = params
        if cls.type_id and not cls.title:
            cls.title = cls.type_id.replace("_", " ").title()

    def __init__(self, params: Mapping[str, Any] | None = None, *,
                 label: str | None = None) -> None:
        self.label = label or self.title
        self.params = self.validate_params(params or {}, label=self.label)

    # -- declaration queries --------------------------------------------
    @classmethod
    def help_text(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary_line(cls) -> str:
        return cls.help_text().split("\n\n")[0].replace("\n", " ")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {name: _copy_default(p.default) for name, p in cls.parameters.items()}

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Everything a GUI or the CLI needs to present this node type."""
        return {
            "type_id": cls.type_id, "version": cls.version, "title": cls.title,
            "category": cls.category, "aliases": list(cls.aliases),
            "summary": cls.summary_line(), "help": cls.help_text(),
            "inputs": [p.describe() for p in cls.inputs.values()],
            "outputs": [p.describe() for p in cls.outputs.values()],
            "parameters": [p.describe() for p in cls.parameters.values()],
            "needs_trust": cls.needs_trust,
            "contract": {
                "scoring_role": cls.scoring_role.value,
                "fitted_transform_port": cls.fitted_transform_port,
                "randomness": (None if cls.randomness is None
                               else {"seed_param": cls.randomness.seed_param}),
                "side_effects": cls.side_effects.value,
                "accepts_missing_values": cls.accepts_missing_values,
                "trusted_types": list(cls.trusted_types),
                "partitioning": cls.partitioning.value,
            },
        }

    @classmethod
    def scoring_role_for(cls, params: Mapping[str, Any]) -> ScoringRole:
        """The scoring role of a node with these parameters: ``scoring_role``
        unless it depends on them (Clip Values fits only in percentile mode)."""
        return cls.scoring_role

    @classmethod
    def partitioning_for(cls, params: Mapping[str, Any]) -> Partitioning:
        """How a node with these parameters takes a partitioned table:
        ``partitioning`` unless it depends on them (Split Data without
        shuffling needs the whole table's order)."""
        return cls.partitioning

    # -- parameters -----------------------------------------------------
    @classmethod
    def parameter_problems(cls, raw: Mapping[str, Any], label: str | None = None, *,
                           complete: bool = True
                           ) -> tuple[dict[str, Any], list[ParameterError]]:
        """Validate the values; return the canonical set and all problems found.

        ``complete=False`` checks only the form of the values, as when a node
        is placed or a file is opened: an unfinished node (an empty required
        path) may sit in a workflow. ``complete=True``, before a run, also
        checks that required values are filled in and ``check_parameters``.
        """
        label = label or cls.title
        values = cls.defaults()
        problems: list[ParameterError] = []
        for name, value in raw.items():
            param = cls.parameters.get(name)
            if param is None:
                known = ", ".join(cls.parameters) or "none"
                problems.append(ParameterError(
                    label, name, value, f"'{cls.title}' has no such parameter (known: {known})"))
                continue
            try:
                values[name] = param.validate(value, label)
            except ParameterError as error:
                problems.append(error)
        if not complete:
            return values, problems
        for name, param in cls.parameters.items():
            if name in values and not any(p.parameter == name for p in problems):
                unfinished = param.completeness_problem(values[name], label)
                if unfinished is not None:
                    problems.append(unfinished)
        if not problems:
            try:
                cls.check_parameters(values, label)
            except ParameterError as error:
                problems.append(error)
        return values, problems

    @classmethod
    def validate_params(cls, raw: Mapping[str, Any], label: str | None = None, *,
                        complete: bool = True) -> dict[str, Any]:
        """The canonical parameter set, or the first ParameterError."""
        values, problems = cls.parameter_problems(raw, label, complete=complete)
        if problems:
            raise problems[0]
        return values

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        """Checks that involve several parameters or say a node is unfinished
        (raise ParameterError); made before a run, not while editing."""

    @classmethod
    def migrate_params(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Upgrade parameters saved by ``from_version`` of this node type."""
        return params

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        """Digest of external data this node reads (files), for its cache key.

        Nodes that read nothing from outside return None (the default).
        """
        return None

    @classmethod
    def known_output_columns(cls, params: Mapping[str, Any]) -> dict[str, list[str]] | None:
        """The column names of this node's table outputs when they are knowable
        without running it (a sample dataset's sidecar, a CSV file's header), by
        output port; None when they are not. Column pickers use it before the
        first run. It must be cheap and must not fail: return None instead."""
        return None

    # -- running --------------------------------------------------------
    def run(self, ctx: RunContext, **inputs: Any) -> dict[str, Any]:
        """Compute the outputs from the inputs. Override in every node type."""
        raise NotImplementedError(f"{type(self).__name__}.run")

    def partition_summary(self, ctx: RunContext, **inputs: Any) -> Any:
        """STREAM nodes: something small about one partition (``partition_input``
        holds it), computed where the partition is (nodes/partitions.py)."""
        return None

    def run_partitions(self, ctx: RunContext, **inputs: Any) -> dict[str, Any]:
        """STREAM nodes: the outputs, with ``partition_input`` given as
        ``nodes.partitions.Partitions`` (the summaries); a table output may be a
        ``nodes.partitions.PerPartition``."""
        raise NotImplementedError(f"{type(self).__name__}.run_partitions")

    def plan_partitions(self, ctx: RunContext) -> list[Any] | None:
        """SOURCE nodes: the blocks to read (``nodes.partitions.PartitionRead``),
        having recorded the dataset as ``run`` does; None to read it whole."""
        return None

    def execute(self, ctx: RunContext, inputs: Mapping[str, Any], *,
                method: str = "run") -> dict[str, Any]:
        """Run and check that the outputs are the declared ones. ``method`` is
        "run"; for a STREAM node on a partitioned table, "partition_summary"
        (returned as {"summary": ...}) or "run_partitions" (nodes/partitions.py).

        This is the last gate before code stored in a file runs: a node that
        ``needs_trust`` runs only with a context the user's trust step made.
        """
        if self.needs_trust and not ctx.trusted:
            raise UntrustedCodeError(self.label)
        randomness = type(self).randomness
        ctx.random_allowed = randomness is not None
        if (randomness is not None and randomness.seed_param is not None
                and self.params.get(randomness.seed_param) is None):
            # "inherit": the node runs with the context's seed, derived from the run's.
            self.params = {**self.params, randomness.seed_param: ctx.seed}
        if method == "partition_summary":  # a STREAM node's look at one partition
            return {"summary": self.partition_summary(ctx, **inputs)}
        result = getattr(self, method)(ctx, **inputs)
        if not isinstance(result, dict) and len(self.outputs) == 1:
            result = {next(iter(self.outputs)): result}
        if not isinstance(result, dict) or set(result) != set(self.outputs):
            got = sorted(result) if isinstance(result, dict) else type(result).__name__
            raise TypeError(f"{type(self).__name__}.run returned {got}, "
                            f"expected outputs {sorted(self.outputs)}")
        for value in result.values():
            # A learner's declaration travels with the untrained model it outputs.
            if getattr(value, "kind", None) == "learner" and value.accepts_missing is None:
                value.accepts_missing = type(self).accepts_missing_values
        return result


def _collect_ports(cls: type, holder: str, kind: type) -> dict[str, Any]:
    ports: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(klass).get(holder)
        if namespace is None:
            continue
        for name, value in vars(namespace).items():
            if isinstance(value, kind):
                ports[name] = value
    return ports


def _copy_default(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy_default(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_default(v) for k, v in value.items()}
    return value
