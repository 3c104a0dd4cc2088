"""`studio data describe`, `studio audit prove|verify|statement` on real runs and files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studio.cli.main import main
from studio.ownership.describe import Description, describe_command, describe_file
from tests.ownership.helpers import loans_frame, training_workflow, write_loans


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two real `studio run`s of the loans workflow (the second on one changed value),
    and a refused one, all kept in one run store."""
    folder = tmp_path_factory.mktemp("audit")
    runs = folder / "runs"
    csv = write_loans(folder, purposes=["research"], license="CC-BY-4.0")
    flow = training_workflow(csv, folder, purpose="research")
    assert main(["run", str(flow), "--out", str(folder / "first"), "--runs-dir", str(runs)]) == 0
    changed_folder = folder / "changed"
    changed_folder.mkdir()
    changed = loans_frame()
    changed.loc[0, "income"] += 1
    changed.to_csv(changed_folder / "loans.csv", index=False)
    main(["data", "describe", str(changed_folder / "loans.csv"), "--owner-column", "owner"])
    flow2 = training_workflow(changed_folder / "loans.csv", changed_folder)
    assert main(["run", str(flow2), "--out", str(folder / "second"), "--runs-dir",
                 str(runs)]) == 0
    (folder / "refused").mkdir()
    off_purpose = training_workflow(csv, folder / "refused", purpose="marketing")
    from studio.engine import check_workflow
    from studio.ownership.record import record_refusal
    from studio.ownership.terms import TermsProblem
    from studio.workflow import load_workflow

    workflow = load_workflow(off_purpose)
    record_refusal(workflow, [p for p in check_workflow(workflow) if isinstance(p, TermsProblem)],
                   runs_dir=runs)
    return folder


def model(trained: Path, run: str = "first") -> Path:
    return trained / run / "outputs" / "train.model"


def audit(*args: object) -> int:
    return main(["audit", *map(str, args)])


def test_describe_writes_a_sidecar_bound_to_the_file(tmp_path, capsys):
    path = tmp_path / "loans.csv"
    loans_frame().to_csv(path, index=False)
    assert main(["data", "describe", str(path), "--owner-column", "owner", "--owner",
                 "alice=Alice A.", "--purpose", "research", "--region", "EU", "--expires",
                 "2030-01-31", "--license", "CC-BY-4.0", "--json"]) == 0
    sidecar = json.loads(capsys.readouterr().out)
    assert sidecar["file"] == "loans.csv" and sidecar["rows"] == 120
    assert [o["id"] for o in sidecar["ownership"]["owners"]] == ["alice", "bob", "carol"]
    assert sidecar["ownership"]["owners"][0]["name"] == "Alice A."
    assert set(sidecar["deposit"]["owners"]) == {"alice", "bob", "carol"}
    assert main(["data", "show", str(path)]) == 0
    assert "deposit digest " + sidecar["deposit"]["root"] in capsys.readouterr().out
    # Refusals: already described, no owner, no such column, nothing to show.
    assert main(["data", "describe", str(path), "--owner", "x"]) == 2
    assert "--refresh" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    loans_frame().to_csv(other, index=False)
    assert main(["data", "describe", str(other)]) == 2
    assert main(["data", "describe", str(other), "--owner-column", "nope"]) == 2
    assert main(["data", "show", str(other)]) == 2
    err = capsys.readouterr().err
    assert "no owner given" in err and "no column 'nope'" in err and "Traceback" not in err


def test_the_apps_describe_command_writes_what_describe_file_writes(tmp_path, capsys):
    """The app runs `studio data describe` with describe_command's arguments: the same
    sidecar as describe_file with the same Description, values starting with '-' too."""
    description = Description(
        owners=["alice=Alice A.", "bob"], terms={
            "purposes": ["research", "teaching"], "regions": ["EU"], "expires": "2030-01-31",
            "exclusive_to": "acme", "attribution": "--Loans cooperative, 2026",
            "license": "CC-BY-4.0"}, source="-the branch", description="loans")
    direct, through = tmp_path / "direct.csv", tmp_path / "command.csv"
    for path in (direct, through):
        loans_frame().to_csv(path, index=False)
    expected = describe_file(direct, description)
    assert main([*describe_command(through, description), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    for key in ("ownership", "source", "description", "sha256"):
        assert written[key] == expected[key], key
    assert written["deposit"]["root"] == expected["deposit"]["root"]
    assert describe_command(through, Description(owner_column="owner"), refresh=True)[-1] == \
        "--refresh"


def test_a_changed_file_is_refused_until_it_is_described_again(tmp_path):
    from nodes.data.datasets import ImportCSV
    from nodes.errors import NodeInputError
    from nodes.testing import run_node

    csv = write_loans(tmp_path, expires="2030-01-01")
    frame = loans_frame()
    frame.loc[3, "debt"] = 0
    frame.to_csv(csv, index=False)
    with pytest.raises(NodeInputError, match="describes another version"):
        run_node(ImportCSV, {"path": str(csv)})
    assert main(["data", "describe", str(csv), "--refresh", "--expires", "2031-01-01"]) == 0
    table = run_node(ImportCSV, {"path": str(csv)})["data"]
    assert table.ownership.sources[0]["terms"]["expires"] == "2031-01-01"


def test_an_owners_proof_verifies_against_the_model_and_the_record(trained, tmp_path, capsys):
    proof = tmp_path / "alice.json"
    assert audit("prove", model(trained), "--owner", "alice", "--out", proof) == 0
    assert audit("verify", proof, model(trained)) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified: owner 'alice' has")
    assert audit("verify", proof, trained / "first" / "run_record.json") == 0
    # The model trained on the changed data has another root: the old proof fails.
    assert audit("verify", proof, model(trained, "second")) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
    # And a proof edited to claim bob's rows fails against the original.
    forged = json.loads(proof.read_text())
    forged["owner"]["id"] = "bob"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert audit("verify", tmp_path / "forged.json", model(trained)) == 1


def test_row_proofs_say_which_records_trained_the_model(trained, tmp_path, capsys):
    rows = pd.read_csv(trained / "loans.csv").head(6)
    outsider = rows.iloc[[0]].assign(debt=99.99)
    pd.concat([rows, outsider]).to_csv(tmp_path / "rows.csv", index=False)
    proofs = tmp_path / "rows-proof.json"
    assert audit("prove", model(trained), "--row", tmp_path / "rows.csv", "--out", proofs) == 0
    kinds = [p["kind"] for p in json.loads(proofs.read_text())["proofs"]]
    assert len(kinds) == 7 and kinds[-1] == "row-absent" and "row" in kinds
    # Which of the six were trained on: exactly the split's training rows.
    from nodes.ownership.encoding import RowSchema, row_hashes

    raw = pd.read_csv(trained / "loans.csv")
    stored = json.loads((model(trained) / "ownership.json").read_text())
    leaves = np.load(model(trained) / "ownership_leaves.npy")
    members = {bytes(x) for x in leaves}
    expected = [bytes(h) in members for h in row_hashes(raw.head(6), RowSchema.of(raw))]
    assert [k == "row" for k in kinds[:6]] == expected
    assert stored["rows"] == len(leaves)
    assert audit("verify", proofs, model(trained), "--json") == 0
    verdicts = json.loads(capsys.readouterr().out)
    assert verdicts["verified"] and len(verdicts["verdicts"]) == 7
    # The run record carries the model's digest too; the other run's does not.
    assert audit("verify", proofs, trained / "first" / "run_record.json") == 0
    assert audit("verify", proofs, trained / "second" / "run_record.json") == 1


def test_a_run_records_dataset_can_be_proved_from_the_data(trained, tmp_path):
    rows = pd.read_csv(trained / "loans.csv").tail(2)
    rows.to_json(tmp_path / "rows.json", orient="records")
    proof = tmp_path / "p.json"
    record = trained / "first"
    assert audit("prove", record, "--row", tmp_path / "rows.json", "--target", "data",
                 "--out", proof) == 0
    assert [p["kind"] for p in json.loads(proof.read_text())["proofs"]] == ["row", "row"]
    assert audit("verify", proof, record) == 0


def test_bad_audit_arguments_exit_2_with_the_fix(trained, tmp_path, capsys):
    assert audit("prove", model(trained), "--owner", "dave") == 2
    assert "Its owners are: alice, bob, carol" in capsys.readouterr().err
    assert audit("prove", tmp_path / "nothing", "--owner", "alice") == 2
    (tmp_path / "x.json").write_text("[1, 2]")
    assert audit("verify", tmp_path / "x.json", model(trained)) == 2
    assert audit("prove", trained / "first", "--owner", "alice", "--target", "nope") == 2
    assert "Choose one of: data (dataset), train (model)" in capsys.readouterr().err
    assert audit("statement", "--period", "November") == 2
    assert "Traceback" not in capsys.readouterr().err


def test_the_statement_lists_deposits_withdrawals_models_and_refusals(trained, capsys):
    month = date.today().isoformat()[:7]
    runs = trained / "runs"
    assert audit("statement", "--runs-dir", runs, "--period", month, "--owner", "alice",
                 "--json") == 0
    statement = json.loads(capsys.readouterr().out)
    assert statement["runs"] == 3
    [alice] = statement["owners"]
    assert alice["owner"] == "alice"
    assert len(alice["deposits"]) == 2  # the file, and its changed copy
    assert {d["terms"]["license"] for d in alice["deposits"]} >= {"CC-BY-4.0"}
    assert [w["purpose"] for w in alice["withdrawals"]] == ["research", None]
    assert all(w["rows_read"] == 40 for w in alice["withdrawals"])
    trained_rows = [m["rows"] for m in alice["models"] if m["kind"] == "model"]
    assert len(trained_rows) == 2 and all(0 < r < 40 for r in trained_rows)
    [refusal] = alice["refused"]
    assert refusal["term"] == "purposes" and "marketing" in refusal["message"]
    # From the folder of records: the same runs, less the refused one (never written there).
    assert audit("statement", "--records", trained, "--owner", "alice", "--json") == 0
    folder = json.loads(capsys.readouterr().out)
    assert len(folder["owners"][0]["withdrawals"]) == 2
    assert audit("statement", "--runs-dir", runs, "--period", "1999-01") == 0
    assert "no owned data was used" in capsys.readouterr().out
    assert audit("statement", "--runs-dir", runs) == 0
    text = capsys.readouterr().out
    for word in ("alice", "bob", "carol", "deposits", "withdrawals", "refused uses (1)"):
        assert word in text
