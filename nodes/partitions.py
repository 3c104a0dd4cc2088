"""Tables in partitions: what a node sees when its table does not come whole.

On the Dask executor a table read by Import CSV / Parquet stays on the
workers as partitions (blocks of rows, in file order), and each node
declares (``Node.partitioning``, a :class:`nodes.contract.Partitioning`)
how it takes a partitioned input:

- ``ROWS``: its ``run`` works on each partition on its own. The executor
  calls it once per partition, on the worker that holds the partition
  (``ctx.partition`` is (index, count)); its table outputs are partitioned
  the same way.
- ``STREAM``: map and combine. ``partition_summary(ctx, data=partition,
  ...)`` runs on every partition where it is and returns something small
  (counts, sums, the two columns Evaluate needs); ``run_partitions(ctx,
  data=Partitions, ...)`` gets those summaries in row order and returns the
  outputs. A table output given as :class:`PerPartition` is then made
  partition by partition from the input (a fitted transform applied where
  each partition is).
- ``SOURCE``: its ``plan_partitions(ctx)`` records the dataset and says how
  to read its output in blocks (:class:`PartitionRead`), or returns None
  to be read whole.
- ``WHOLE_TABLE`` (the default): it needs every row at once. The executor
  gathers the partitions into one table on one worker when they fit in
  that worker's memory budget, and refuses with the sizes otherwise.

Nothing here imports Dask: ``run_in_partitions`` runs a node's partitioned
path on tables held in this process, so tests can check it against ``run``
on the whole table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from nodes.values import Table


@dataclass
class Partitions:
    """What a STREAM node's ``run_partitions`` knows of its partitioned input:
    each partition's summary, in row order, and the table's shape and schema
    (every partition has the same columns, roles and types)."""

    summaries: list[Any]
    rows: int
    columns: list[str]
    roles: dict[str, str]
    dtypes: dict[str, Any] = field(default_factory=dict)
    #: The partitions themselves, as the executor refers to them (see ``map``).
    refs: list[Any] = field(default_factory=list, repr=False)
    #: Runs functions where the partitions are (set by the executor).
    backend: Any = field(default=None, repr=False, compare=False)
    #: Bytes the partitions hold, and the most one node may gather (None: no limit).
    nbytes: int = 0
    gather_limit: int | None = None
    node: str = ""

    def role(self, column: str) -> str:
        return self.roles.get(column, "feature")

    @property
    def label_column(self) -> str | None:
        labels = [c for c in self.columns if self.role(c) == "label"]
        return labels[0] if labels else None

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.columns if self.role(c) == "feature"]

    def __len__(self) -> int:
        return len(self.summaries)

    def map(self, function: Callable[..., Any], *args: Any) -> list[Any]:
        """``function(partition, *args)`` for every partition, where it is; the
        results (small, they travel) in row order."""
        return self.backend.map(self.refs, function, args)

    def derive(self, function: Callable[..., Any], *args: Any) -> Partitions:
        """Partitions made by ``function(partition, *args)`` that stay where they
        are made (say, a learner's design matrices), for further ``map`` calls;
        they are dropped when the node ends."""
        return replace(self, refs=self.backend.derive(self.refs, function, args))

    def derive_per_worker(self, function: Callable[..., Any], *args: Any) -> Partitions:
        """Like ``derive``, but ``function(partitions, *args)`` gets every partition one
        worker holds at once (a list, in row order), and its result stays there: one
        piece per worker, for ``map`` calls that are cheaper in few, big pieces."""
        return replace(self, refs=self.backend.derive_per_worker(self.refs, function, args))

    def gather(self) -> Table:
        """Every row here, in one table, when it fits in ``gather_limit``."""
        if self.gather_limit is not None and self.nbytes > self.gather_limit:
            from nodes.errors import NodeInputError

            raise NodeInputError(
                self.node, f"this learner trains on every row at once, in one worker, but "
                f"the {self.rows:,} rows are {self.nbytes / 1e6:,.1f} MB, more than the "
                f"{self.gather_limit / 1e6:,.1f} MB one worker may gather.", port="data",
                fix="Give the workers more memory ('dask worker --memory-limit'), keep fewer "
                    "rows or columns upstream (Partition and Sample, Select Columns), use "
                    "Logistic Regression (it trains on the partitions where they are), or "
                    "raise the limit with --gather-limit.")
        return concat_tables(self.backend.gather(self.refs))

    def schema_table(self) -> Table:
        """A table with no rows and these columns, roles and types, for the same
        checks ``run`` makes on a whole table (``require_columns`` and the like)."""
        frame = pd.DataFrame({c: pd.Series(dtype=self.dtypes.get(c, object))
                              for c in self.columns})
        return Table(frame, self.roles)


@dataclass(frozen=True)
class PerPartition:
    """A STREAM node's table output made from its input partition by partition:
    ``function(partition)`` for each (picklable: say a fitted Transform's ``apply``)."""

    function: Callable[[Table], Table]

    def __call__(self, table: Table) -> Table:
        return self.function(table)


class PartitionRead:
    """How a SOURCE node reads one block of its output (picklable; runs on a worker)."""

    def read(self) -> Table:
        raise NotImplementedError


class LocalBackend:
    """Partitions held in this process (``run_in_partitions``, tests)."""

    def map(self, refs: Sequence[Any], function: Callable[..., Any],
            args: Sequence[Any]) -> list[Any]:
        return [function(part, *args) for part in refs]

    def derive(self, refs: Sequence[Any], function: Callable[..., Any],
               args: Sequence[Any]) -> list[Any]:
        return self.map(refs, function, args)

    def derive_per_worker(self, refs: Sequence[Any], function: Callable[..., Any],
                          args: Sequence[Any]) -> list[Any]:
        return [function(list(refs), *args)]

    def gather(self, refs: Sequence[Any]) -> list[Table]:
        return list(refs)


def concat_tables(tables: Sequence[Table]) -> Table:
    """Partitions back into one table (rows numbered 0, 1, ... again)."""
    if len(tables) == 1:
        first = tables[0]
        return first if first.frame.index.equals(pd.RangeIndex(len(first.frame))) \
            else first.with_frame(first.frame.reset_index(drop=True))
    frame = pd.concat([t.frame for t in tables], ignore_index=True)
    return Table(frame, tables[0].roles)


def schema_of(table: Table) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    return list(table.frame.columns), dict(table.roles), dict(table.frame.dtypes.items())


def run_in_partitions(node: Any, ctx: Any, parts: Sequence[Table],
                      others: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run ``node`` (an instance) the way the Dask executor runs it on a table
    in ``parts``, here, and return its outputs with table outputs whole."""
    from nodes.contract import Partitioning

    others = dict(others or {})
    port = type(node).partition_input
    kind = type(node).partitioning_for(node.params)
    if kind is Partitioning.ROWS:
        results = [node.execute(replace(ctx, partition=(i, len(parts))), {**others, port: part})
                   for i, part in enumerate(parts)]
        return {name: concat_tables([r[name] for r in results]) for name in results[0]}
    if kind is not Partitioning.STREAM:
        return node.execute(ctx, {**others, port: concat_tables(parts)})
    summaries = [node.execute(ctx, {**others, port: part}, method="partition_summary")["summary"]
                 for part in parts]
    columns, roles, dtypes = schema_of(parts[0])
    info = Partitions(summaries, sum(len(p.frame) for p in parts), columns, roles, dtypes,
                      refs=list(parts), backend=LocalBackend(), node=node.label,
                      nbytes=sum(int(p.frame.memory_usage(index=True).sum()) for p in parts))
    outputs = node.execute(ctx, {**others, port: info}, method="run_partitions")
    return {name: concat_tables([value(p) for p in parts]) if isinstance(value, PerPartition)
            else value for name, value in outputs.items()}
