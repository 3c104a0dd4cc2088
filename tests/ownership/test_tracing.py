"""Row provenance follows rows through real nodes: kept, dropped, reordered, rewritten."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nodes.data.datasets import ImportCSV
from nodes.models.learners import LogisticRegression
from nodes.models.train_score import TrainModel
from nodes.ownership.encoding import RowSchema, row_hashes
from nodes.ownership.rows import RowLeaves, carry_ownership
from nodes.testing import run_node
from nodes.transform.columns import SelectColumns
from nodes.transform.metadata import EditMetadata
from nodes.transform.missing import CleanMissingData
from nodes.transform.normalize import NormalizeData
from nodes.transform.rows import AddRows, RemoveDuplicateRows
from nodes.transform.sampling import PartitionAndSample
from nodes.transform.split import SplitData
from tests.ownership.helpers import loans_frame, write_loans


def source(tmp_path, frame=None):
    path = write_loans(tmp_path)
    if frame is not None:
        frame.to_csv(path, index=False)
        from studio.ownership.describe import Description, describe_file

        describe_file(path, Description(owner_column="owner"), force=True)
    table = run_node(ImportCSV, {"path": str(path), "label_column": "label"})["data"]
    assert table.ownership is not None and table.ownership.traced
    return table


def _key(frame: pd.DataFrame) -> list[tuple[float, float]]:
    return list(zip(frame["income"], frame["debt"], strict=True))


def hashes_of_source_rows(frame: pd.DataFrame, raw: pd.DataFrame, schema: RowSchema
                          ) -> np.ndarray:
    """What the source hashed for each row of ``frame`` (found by income and debt)."""
    position = {k: i for i, k in enumerate(_key(raw))}
    return row_hashes(raw.iloc[[position[k] for k in _key(frame)]], schema)


def owners_of(frame: pd.DataFrame, raw: pd.DataFrame) -> dict[str, int]:
    owner = dict(zip(_key(raw), raw["owner"], strict=True))
    return {str(k): int(v) for k, v in pd.Series([owner[k] for k in _key(frame)])
            .value_counts().items()}


def test_split_traces_each_row_to_its_source_row(tmp_path):
    table = source(tmp_path)
    raw = pd.read_csv(tmp_path / "loans.csv")
    schema = RowSchema.of(raw)
    parts = run_node(SplitData, {"fraction": 0.7, "seed": 1}, data=table)
    for part in parts.values():
        assert part.ownership.traced and len(part.ownership) == len(part.frame)
        assert np.array_equal(part.ownership.leaves,
                              hashes_of_source_rows(part.frame, raw, schema))
    train, test = parts["train"].ownership.digest(), parts["test"].ownership.digest()
    assert train.rows + test.rows == len(raw)
    assert train.root != table.ownership.digest().root


def test_rewritten_columns_keep_the_rows_and_a_model_carries_the_subset(tmp_path):
    table = source(tmp_path)
    train = run_node(SplitData, {"fraction": 0.6, "seed": 2}, data=table)["train"]
    numbers = run_node(SelectColumns, {"columns": ["income", "debt", "label"]},
                       data=train)["data"]
    normalized = run_node(NormalizeData, {"method": "zscore"}, data=numbers)["data"]
    assert normalized.ownership is train.ownership  # same rows, same order
    assert numbers.ownership is train.ownership
    model = run_node(TrainModel, {}, learner=run_node(LogisticRegression, {})["learner"],
                     data=normalized)["model"]
    assert model.ownership.rows == len(train.frame)
    assert model.ownership.root == train.ownership.digest().root
    assert model.ownership.root != table.ownership.digest().root
    counts = {o: t.rows for o, t in model.ownership.owners.items()}
    assert counts == owners_of(train.frame, pd.read_csv(tmp_path / "loans.csv"))


def test_dropped_reordered_and_deduplicated_rows_are_followed(tmp_path):
    frame = loans_frame()
    frame.loc[[3, 8], "debt"] = np.nan
    frame = pd.concat([frame, frame.iloc[[10]]], ignore_index=True)  # one repeated row
    table = source(tmp_path, frame)
    raw = pd.read_csv(tmp_path / "loans.csv")
    schema = RowSchema.of(raw)
    dropped = run_node(CleanMissingData, {"columns": ["debt"], "method": "remove_row"},
                       data=table)["data"]
    assert len(dropped.frame) == len(frame) - 2 and dropped.ownership.traced
    assert np.array_equal(dropped.ownership.leaves[:3], row_hashes(raw.iloc[[0, 1, 2]], schema))
    filled = run_node(CleanMissingData, {"columns": ["debt"], "method": "mean"},
                      data=table)["data"]
    assert filled.ownership.digest().root == table.ownership.digest().root
    unique = run_node(RemoveDuplicateRows, {}, data=table)["data"]
    assert len(unique.ownership) == len(frame) - 1
    assert unique.ownership.digest().rows == table.ownership.digest().rows - 1
    sample = run_node(PartitionAndSample, {"mode": "sample", "rate": 0.5, "seed": 4},
                      data=dropped)["data"]
    assert sample.ownership.traced and len(sample.ownership) == len(sample.frame)
    expected = hashes_of_source_rows(sample.frame, raw.drop_duplicates(["income", "debt"]),
                                     schema)
    assert np.array_equal(sample.ownership.leaves, expected)


def test_new_rows_derive_from_every_input_row(tmp_path):
    table = source(tmp_path)
    other = table.with_frame(table.frame.assign(income=table.frame["income"] + 1000))
    assert other.ownership is table.ownership  # the same rows, rewritten
    both = run_node(AddRows, {}, first=table, second=other)["data"]
    # The second table's rows match none of the first's: the trail is lost, and the
    # result derives from every row of the first input.
    assert not both.ownership.traced
    assert both.ownership.digest().root == table.ownership.untraced().digest().root
    later = run_node(SplitData, {"fraction": 0.5, "seed": 0}, data=both)["train"]
    assert not later.ownership.traced and len(later.ownership) == len(table.frame)


def test_a_node_that_builds_its_table_anew_is_carried_over_by_the_runner(tmp_path):
    table = source(tmp_path)
    inputs = {"data": table}
    outputs = run_node(EditMetadata, {"columns": ["income"], "new_names": ["earnings"]},
                       data=table)
    assert outputs["data"].ownership is None  # Table(...) made from scratch
    carry_ownership(inputs, outputs)
    assert outputs["data"].ownership is table.ownership
    joined = {"data": type(table)(table.frame.head(5))}
    carry_ownership({"left": table, "right": table}, joined)
    assert not joined["data"].ownership.traced
    assert RowLeaves.union([table.ownership]).digest().root == \
        table.ownership.untraced().digest().root


def test_the_deposits_row_hashes_serve_only_while_they_are_the_files(tmp_path):
    from nodes.ownership.sidecar import ownership_of_file
    from nodes.ownership.source import deposited_row_hashes, row_hashes_path

    csv = write_loans(tmp_path)
    raw = pd.read_csv(csv)
    ownership = ownership_of_file(csv)
    digest = ownership.sha256
    read_with = {"delimiter": ",", "header": True}
    kept = deposited_row_hashes(ownership, raw, digest, read_with)
    assert np.array_equal(kept, row_hashes(raw, RowSchema.of(raw)))
    assert deposited_row_hashes(ownership, raw, digest, {"delimiter": ";", "header": True}) is None
    assert deposited_row_hashes(ownership, raw.head(5), digest, read_with) is None
    table = source(tmp_path)
    assert table.ownership.digest().root.hex() == ownership.deposit["root"]
    # A damaged hashes file is not used: the rows are hashed again, to the same root.
    hashes = row_hashes_path(csv)
    data = bytearray(hashes.read_bytes())
    data[-1] ^= 1
    hashes.write_bytes(bytes(data))
    assert deposited_row_hashes(ownership, raw, digest, read_with) is None
    again = run_node(ImportCSV, {"path": str(csv), "label_column": "label"})["data"]
    assert again.ownership.digest().root.hex() == ownership.deposit["root"]


def test_a_traced_table_pickles_after_a_split_for_dask_workers(tmp_path):
    import pickle

    table = source(tmp_path)
    run_node(SplitData, {"fraction": 0.7, "seed": 1}, data=table)  # fills the memo
    copy = pickle.loads(pickle.dumps(table))
    assert np.array_equal(copy.ownership.leaves, table.ownership.leaves)
    assert copy.ownership.digest().root == table.ownership.digest().root


def test_a_deposit_read_as_described_is_summarised_without_building_its_tree(tmp_path):
    table = source(tmp_path)  # read as `studio data describe` read it: the deposit's rows
    rows = table.ownership
    quick = rows.summary()
    assert rows._digest is None, "the summary of the deposit's own rows built the tree"
    assert quick == rows.digest().summary()  # the same summary as the tree's, key by key
    # Rows that are not the deposit's (a subset) get their own tree.
    part = run_node(SplitData, {"fraction": 0.5, "seed": 2}, data=table)["train"].ownership
    assert part._deposit is None and part.summary()["rows"] == len(part)
