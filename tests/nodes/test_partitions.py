"""A node's partitioned path (nodes/partitions.py) gives its whole-table answer.

Each node that declares ROWS or STREAM is run on a table cut into
partitions, in this process, exactly as the Dask executor runs it
(``run_in_partitions``), and compared with ``run`` on the whole table. The
CSV and Parquet block readers are compared with reading the whole file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nodes import default_registry
from nodes.context import RunContext
from nodes.contract import DeclarationError, Partitioning, check_declarations
from nodes.data.blocks import (
    CsvBlock,
    common_types,
    csv_line_blocks,
    parquet_groups,
    quoted_boundary,
)
from nodes.data.datasets import ImportCSV
from nodes.data.parquet import ImportParquet
from nodes.errors import NodeInputError
from nodes.evaluate.evaluate import EvaluateModel
from nodes.models.learners import LinearRegression, LogisticRegression
from nodes.models.train_score import ScoreModel, TrainModel
from nodes.node import Node
from nodes.partitions import concat_tables, run_in_partitions
from nodes.ports import METRICS, TABLE, Input, Output
from nodes.testing import run_node
from nodes.transform.columns import SelectColumns
from nodes.transform.metadata import EditMetadata
from nodes.transform.missing import CleanMissingData
from nodes.transform.normalize import ApplyTransformation, NormalizeData
from nodes.transform.split import SplitData
from nodes.values import Table

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _table(rows: int = 1_000, seed: int = 0) -> Table:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(5.0, 3.0, (rows, 4)), columns=["a", "b", "c", "d"])
    frame["c"] = 7.0  # a constant column
    frame.loc[::7, "d"] = np.nan
    frame.loc[::5, "a"] = np.nan
    frame["y"] = (rng.random(rows) < 0.4).astype(int)
    return Table(frame, {"y": "label"})


def _cut(table: Table, sizes: list[int]) -> list[Table]:
    parts, start = [], 0
    for size in sizes:
        parts.append(Table(table.frame.iloc[start:start + size].reset_index(drop=True),
                           table.roles))
        start += size
    assert start == len(table.frame)
    return parts


CUTS = [[1_000], [300, 300, 300, 100], [1, 998, 1]]


def _both(node_type: type[Node], params: dict, table: Table, sizes: list[int], **others):
    whole = node_type(params).execute(RunContext(), {**others, node_type.partition_input: table})
    parted = run_in_partitions(node_type(params), RunContext(), _cut(table, sizes), others)
    return whole, parted


@pytest.mark.parametrize("sizes", CUTS)
@pytest.mark.parametrize("method", ["zscore", "minmax", "log"])
def test_normalize_on_partitions_matches_the_whole_table(method, sizes):
    table = _table()
    if method == "log":
        table = table.with_frame(table.frame.abs())
    whole, parted = _both(NormalizeData, {"method": method}, table, sizes)
    pd.testing.assert_frame_equal(parted["data"].frame, whole["data"].frame, rtol=1e-12)
    if method != "log":
        fitted, combined = whole["transform"].transformer, parted["transform"].transformer
        for name in ("scale_", "n_samples_seen_", "mean_", "var_", "data_min_", "data_max_"):
            if hasattr(fitted, name):
                np.testing.assert_allclose(getattr(combined, name), getattr(fitted, name),
                                           rtol=1e-12)
    # The fitted transform treats new rows alike, whichever way it was fitted.
    new = _table(50, seed=3)
    if method == "log":
        new = new.with_frame(new.frame.abs())
    pd.testing.assert_frame_equal(parted["transform"].apply(new).frame,
                                  whole["transform"].apply(new).frame, rtol=1e-12)


def test_normalize_log_on_partitions_refuses_what_run_refuses():
    table = _table()
    with pytest.raises(NodeInputError, match="above -1") as whole:
        NormalizeData({"method": "log"}).execute(RunContext(), {"data": table})
    with pytest.raises(NodeInputError, match="above -1") as parted:
        run_in_partitions(NormalizeData({"method": "log"}), RunContext(), _cut(table, CUTS[1]))
    assert str(parted.value) == str(whole.value)


def test_robust_scaling_and_medians_need_the_whole_table():
    assert NormalizeData.partitioning_for({"method": "robust"}) is Partitioning.WHOLE_TABLE
    assert CleanMissingData.partitioning_for({"method": "median"}) is Partitioning.WHOLE_TABLE
    assert CleanMissingData.partitioning_for({"method": "mode"}) is Partitioning.WHOLE_TABLE
    assert SplitData.partitioning_for({"shuffle": False}) is Partitioning.WHOLE_TABLE
    assert EditMetadata.partitioning_for({"data_type": "category"}) is Partitioning.WHOLE_TABLE


@pytest.mark.parametrize("sizes", CUTS)
@pytest.mark.parametrize("params", [
    {"method": "mean"}, {"method": "constant", "constant_value": "1.5"},
    {"method": "remove_row"}, {"method": "remove_row", "columns": ["a"]},
    {"method": "remove_column", "max_missing_ratio": 0.15}, {"method": "mean", "columns": ["d"]},
])
def test_clean_missing_data_on_partitions_matches_the_whole_table(params, sizes):
    table = _table()
    whole_ctx, parted_ctx = RunContext(), RunContext()
    whole = CleanMissingData(params).execute(whole_ctx, {"data": table})
    parted = run_in_partitions(CleanMissingData(params), parted_ctx, _cut(table, sizes))
    pd.testing.assert_frame_equal(parted["data"].frame, whole["data"].frame, rtol=1e-12)
    assert parted_ctx.messages == whole_ctx.messages  # the same counts before and after
    state, combined = (whole["transform"].transformer.state_values,
                       parted["transform"].transformer.state_values)
    assert combined.keys() == state.keys()
    for key in state:
        if key == "values":
            assert combined[key] == pytest.approx(state[key], rel=1e-12)
        else:
            assert combined[key] == state[key]


def test_remove_row_reports_the_missing_values_left_in_other_columns():
    table = _table()
    ctx = RunContext()
    cleaned = CleanMissingData({"method": "remove_row", "columns": ["a"]}).execute(
        ctx, {"data": table})["data"]
    assert ctx.messages == [f"{int(table.frame.isna().sum().sum())} missing values before, "
                            f"{int(cleaned.frame.isna().sum().sum())} after"]


def _scored(classification: bool = True, rows: int = 1_000) -> tuple[Table, Table]:
    table = _table(rows)
    frame = table.frame.fillna(0.0)
    if not classification:
        frame["y"] = frame["a"] * 2 + frame["b"]
    data = Table(frame, {"y": "label"})
    learner = run_node(LogisticRegression if classification else LinearRegression)["learner"]
    model = run_node(TrainModel, {}, learner=learner, data=data)["model"]
    return data, run_node(ScoreModel, {}, model=model, data=data)["scored"], model


@pytest.mark.parametrize("classification", [True, False])
def test_score_and_evaluate_on_partitions_match_the_whole_table(classification):
    data, scored, model = _scored(classification)
    whole, parted = _both(ScoreModel, {}, data, CUTS[1], model=model)
    pd.testing.assert_frame_equal(parted["scored"].frame, whole["scored"].frame)
    assert parted["scored"].roles == whole["scored"].roles
    whole, parted = _both(EvaluateModel, {"threshold": 0.4}, scored, CUTS[2])
    assert parted["metrics"].scalars == whole["metrics"].scalars
    assert parted["metrics"].to_dict() == whole["metrics"].to_dict()


def test_evaluate_partition_summary_keeps_only_the_label_and_score_columns():
    _, scored, _ = _scored()
    summary = EvaluateModel({}).execute(RunContext(), {"scored": scored},
                                        method="partition_summary")["summary"]
    assert list(summary.frame.columns) == ["y", "Scored Labels", "Scored Probabilities"]


@pytest.mark.parametrize(("node_type", "params"), [
    (SelectColumns, {"columns": ["a", "y"]}),
    (SelectColumns, {"select_by": "types", "types": ["numeric"]}),
    (EditMetadata, {"columns": ["b"], "role": "label"}),
    (EditMetadata, {"columns": ["y"], "data_type": "float", "new_names": ["target"]}),
])
def test_row_wise_nodes_on_partitions_match_the_whole_table(node_type, params):
    table = _table()
    whole, parted = _both(node_type, params, table, CUTS[1])
    pd.testing.assert_frame_equal(parted["data"].frame, whole["data"].frame)
    assert parted["data"].roles == whole["data"].roles


def test_apply_transformation_on_partitions_matches_the_whole_table():
    table = _table()
    transform = run_node(NormalizeData, {"method": "zscore"}, data=table)["transform"]
    whole, parted = _both(ApplyTransformation, {}, table, CUTS[1], transform=transform)
    pd.testing.assert_frame_equal(parted["data"].frame, whole["data"].frame)


def test_split_on_one_partition_is_the_in_process_split_and_on_many_keeps_the_fraction():
    table = _table(10_000)
    whole, one = _both(SplitData, {"fraction": 0.8, "seed": 5}, table, [10_000])
    pd.testing.assert_frame_equal(one["train"].frame, whole["train"].frame)
    ctx = RunContext()
    parts = _cut(table, [2_500] * 4)
    many = run_in_partitions(SplitData({"fraction": 0.8, "seed": 5}), ctx, parts)
    assert len(many["train"].frame) == 4 * 2_000
    assert len(many["test"].frame) == 4 * 500
    # every row once, in one output or the other
    both = pd.concat([many["train"].frame, many["test"].frame])
    assert sorted(both["b"]) == sorted(table.frame["b"])
    # partitions draw different rows (not the same positions in each)
    again = run_in_partitions(SplitData({"fraction": 0.8, "seed": 5}), RunContext(), parts)
    pd.testing.assert_frame_equal(again["train"].frame, many["train"].frame)
    assert "not the rows an in-process run draws" in ctx.messages[0]


def test_every_registered_partitioning_declaration_holds():
    for node_type in default_registry().all():
        check_declarations(node_type)  # the registry did too; this names the node
        kind = node_type.partitioning
        if kind in (Partitioning.ROWS, Partitioning.STREAM):
            assert node_type.inputs[node_type.partition_input].type is TABLE


def test_contradictory_partitioning_declarations_are_refused():
    class MetricPerRow(Node):
        type_id = "bad_rows"
        partitioning = Partitioning.ROWS

        class Inputs:
            data = Input(TABLE)

        class Outputs:
            metrics = Output(METRICS)

    class NoStream(Node):
        type_id = "bad_stream"
        partitioning = Partitioning.STREAM

        class Inputs:
            data = Input(TABLE)

        class Outputs:
            data = Output(TABLE)

    class WrongPort(Node):
        type_id = "bad_port"
        partitioning = Partitioning.ROWS
        partition_input = "table"

        class Inputs:
            data = Input(TABLE)

        class Outputs:
            data = Output(TABLE)

    for node_type, words in ((MetricPerRow, "every output must be a Table"),
                             (NoStream, "does not define run_partitions"),
                             (WrongPort, "partition_input must name")):
        with pytest.raises(DeclarationError, match=words):
            check_declarations(node_type)


# -- reading files in blocks -----------------------------------------------------
def _write_csv(path, rows: int = 2_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "n": rng.integers(0, 100, rows),
                          "word": rng.choice(["alpha", "b", "gamma-delta"], rows),
                          "y": rng.integers(0, 2, rows)})
    frame.loc[rows - 3, "n"] = np.nan  # whole numbers, missing only near the end
    frame.to_csv(path, index=False)
    return frame


def _blocks(path, block: int, **params) -> list[Table]:
    ctx = RunContext(partition_bytes=block)
    reads = ImportCSV({"path": str(path), **params}).plan_partitions(ctx)
    parts = [read.read() for read in reads]
    casts = common_types("Import", [{c: (str(t), bool(p.frame[c].isna().all()))
                                     for c, t in p.frame.dtypes.items()} for p in parts],
                         fixed=list(getattr(reads[0], "types", {})))
    parts = [p.with_frame(p.frame.astype({c: t for c, t in casts.items()})) for p in parts]
    return parts, ctx


@pytest.mark.parametrize("block", [1_024, 5_000, 10**9])
def test_csv_blocks_read_every_line_once_as_the_whole_file_does(tmp_path, block):
    path = tmp_path / "rows.csv"
    _write_csv(path)
    whole_ctx = RunContext()
    whole = ImportCSV({"path": str(path), "label_column": "y"}).execute(whole_ctx, {})
    parts, ctx = _blocks(path, block, label_column="y")
    assert (len(parts) > 1) == (block < 10**9)
    joined = concat_tables(parts)
    pd.testing.assert_frame_equal(joined.frame, whole["data"].frame)
    assert joined.roles == whole["data"].roles == {"y": "label"}
    assert ctx.datasets[0].sha256 == whole_ctx.datasets[0].sha256
    assert ctx.datasets[0].columns == 4 and ctx.datasets[0].rows is None  # counted as read


def test_csv_line_blocks_cover_the_file_at_line_starts(tmp_path):
    path = tmp_path / "lines.csv"
    rng = np.random.default_rng(2)
    lines = ["h\n"] + [("z" * int(rng.integers(0, 300))) + "\n" for _ in range(500)]
    path.write_text("".join(lines))
    data = path.read_bytes()
    for block in (1, 7, 100, 4096, 10**6):
        spans = csv_line_blocks(path, 2, block)
        assert spans[0][0] == 2 and spans[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert all(data[a - 1:a] == b"\n" for a, _ in spans)


def test_a_cut_inside_a_quoted_field_is_found():
    assert quoted_boundary([0, 0, 0]) is None
    assert quoted_boundary([4, 2, 1]) is None  # the last block's count does not matter
    assert quoted_boundary([2, 1, 1, 0]) == 2  # the cut after block 1 is inside quotes
    assert quoted_boundary([1, 1]) == 1


def test_quoted_blocks_count_their_quotes_and_a_category_type_is_read_whole(tmp_path):
    path = tmp_path / "quoted.csv"
    lines = ['a,b\n'] + [f'{i},"x, ""{i}"""\n' for i in range(400)]
    path.write_text("".join(lines))
    parts = [r.read() for r in ImportCSV({"path": str(path)}).plan_partitions(
        RunContext(partition_bytes=1_000))]
    assert len(parts) > 3
    assert quoted_boundary([p.read_info["quotes"] for p in parts]) is None
    whole = ImportCSV({"path": str(path)}).execute(RunContext(), {})
    pd.testing.assert_frame_equal(concat_tables(parts).frame, whole["data"].frame)
    broken = tmp_path / "lines.csv"
    broken.write_text('a,b\n' + "".join(f'{i},"{"x" * (i % 7)}\n{"y" * (i % 5)}"\n'
                                         for i in range(400)))
    reads = ImportCSV({"path": str(broken)}).plan_partitions(RunContext(partition_bytes=1_000))
    counts = [Path(r.path).read_bytes()[r.begin:r.end].count(b'"') for r in reads]
    assert quoted_boundary(counts) is not None  # so the executor reads it whole
    plain = tmp_path / "plain.csv"
    _write_csv(plain)
    assert ImportCSV({"path": str(plain), "column_types": "word:category"}).plan_partitions(
        RunContext()) is None


def test_a_column_typed_differently_in_two_blocks_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "mixed.csv"
    values = [str(i) for i in range(3_000)] + ["n/a?"]
    pd.DataFrame({"code": values, "y": 1}).to_csv(path, index=False)
    with pytest.raises(NodeInputError, match="'code' reads as int64 in some rows, str in "
                                             "others") as error:
        _blocks(path, 2_000)
    assert "column_types" in error.value.fix
    # Naming the type reads it as the whole file would.
    parts, _ = _blocks(path, 2_000, column_types="code:str")
    whole = ImportCSV({"path": str(path), "column_types": "code:str"}).execute(RunContext(), {})
    pd.testing.assert_frame_equal(concat_tables(parts).frame, whole["data"].frame)


def test_parquet_row_groups_read_as_the_whole_file(tmp_path):
    path = tmp_path / "rows.parquet"
    frame = _write_csv(tmp_path / "rows.csv")
    frame.to_parquet(path, row_group_size=300)
    whole_ctx = RunContext()
    whole = ImportParquet({"path": str(path), "label_column": "y"}).execute(whole_ctx, {})
    ctx = RunContext(partition_bytes=5_000)
    reads = ImportParquet({"path": str(path), "label_column": "y"}).plan_partitions(ctx)
    assert len(reads) > 2
    assert len(parquet_groups(path, 10**9, {})) == 1
    joined = concat_tables([r.read() for r in reads])
    pd.testing.assert_frame_equal(joined.frame, whole["data"].frame)
    assert joined.roles == {"y": "label"}
    assert ctx.datasets[0].sha256 == whole_ctx.datasets[0].sha256


def test_a_bad_block_names_the_node_and_the_bytes(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4,5,6\n")
    read = CsvBlock("Import Data (CSV)", str(path), 4, path.stat().st_size, ",", ("a", "b"))
    with pytest.raises(NodeInputError, match="Import Data \\(CSV\\).*bytes 4-"):
        read.read()


# -- training on partitions ---------------------------------------------------------
def _training_table(rows: int = 4_000) -> Table:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)), columns=[f"f{i}" for i in range(6)])
    frame["label"] = np.where(frame.to_numpy() @ rng.normal(size=6)
                              + rng.normal(size=rows) > 0.3, "yes", "no")
    return Table(frame, {"label": "label"})


@pytest.mark.parametrize("params", [{}, {"regularization_strength": 0.01},
                                    {"regularization_strength": 100.0, "tolerance": 1e-8}])
def test_logistic_regression_trained_on_partitions_is_the_whole_table_fit(params):
    table = _training_table()
    learner = run_node(LogisticRegression, params)["learner"]
    whole, parted = _both(TrainModel, {}, table, [1_000, 1_500, 1_500], learner=learner)
    fitted, combined = whole["model"].estimator, parted["model"].estimator
    assert type(combined) is type(fitted)
    assert list(combined.classes_) == list(fitted.classes_) == ["no", "yes"]
    np.testing.assert_allclose(combined.coef_, fitted.coef_, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(combined.intercept_, fitted.intercept_, rtol=1e-3, atol=1e-5)
    X = table.frame[[f"f{i}" for i in range(6)]].to_numpy()
    np.testing.assert_allclose(combined.predict_proba(X), fitted.predict_proba(X), atol=1e-5)
    model, reference = parted["model"], whole["model"]
    assert (model.feature_columns, model.label_column, model.classes, model.feature_dtypes) == (
        reference.feature_columns, reference.label_column, reference.classes,
        reference.feature_dtypes)
    scored = run_node(ScoreModel, {}, model=model, data=table)["scored"]
    expected = run_node(ScoreModel, {}, model=reference, data=table)["scored"]
    assert (scored.frame["Scored Labels"] == expected.frame["Scored Labels"]).mean() > 0.999


def test_other_learners_and_three_classes_gather_the_rows():
    table = _training_table()
    three = table.with_frame(table.frame.assign(label=np.arange(len(table.frame)) % 3))
    for data, learner in ((table, run_node(LinearRegression)["learner"]),
                          (three, run_node(LogisticRegression)["learner"])):
        if learner.task == "regression":
            data = data.with_frame(data.frame.assign(label=data.frame["f0"] * 2.0))
        whole, parted = _both(TrainModel, {}, data, [1_000, 3_000], learner=learner)
        np.testing.assert_array_equal(parted["model"].estimator.coef_,
                                      whole["model"].estimator.coef_)


def test_training_on_partitions_refuses_what_run_refuses():
    table = _training_table()
    frame = table.frame.copy()
    frame.loc[[5, 3_500], "f2"] = np.nan
    gappy = Table(frame, table.roles)
    learner = run_node(LogisticRegression)["learner"]
    with pytest.raises(NodeInputError) as whole:
        TrainModel({}).execute(RunContext(), {"learner": learner, "data": gappy})
    with pytest.raises(NodeInputError) as parted:
        run_in_partitions(TrainModel({}), RunContext(), _cut(gappy, [2_000, 2_000]),
                          {"learner": learner})
    assert str(parted.value) == str(whole.value)
    assert "'f2' (2 rows)" in str(parted.value)
