"""Terms are enforced before anything runs, in every entry point; overrides are recorded."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

import studio
from studio.engine import Engine
from studio.ownership.record import record_refusal
from studio.ownership.terms import TermsProblem, TermsRefusedError, enforce_run_terms
from studio.runs import RunStore
from studio.workflow import WorkflowInvalidError, load_workflow
from tests.ownership.helpers import training_workflow, write_loans

REPO = Path(__file__).resolve().parents[2]
PAST = (date.today() - timedelta(days=30)).isoformat()
FUTURE = (date.today() + timedelta(days=30)).isoformat()


def expired(tmp_path: Path, **settings: object) -> Path:
    csv = write_loans(tmp_path, expires=PAST, license="CC-BY-4.0")
    return training_workflow(csv, tmp_path, **settings)


def test_the_engine_refuses_an_expired_dataset_before_any_node_runs(tmp_path):
    workflow = load_workflow(expired(tmp_path))
    events = []
    with Engine() as engine:
        engine.events.subscribe(events.append)
        with pytest.raises(WorkflowInvalidError) as caught:
            engine.run(workflow)
    assert events == []  # not even run_started: nothing ran
    [problem] = caught.value.problems
    assert isinstance(problem, TermsProblem)
    assert (problem.dataset, problem.term, problem.node) == ("loans.csv", "expires", "data")
    assert problem.owner == "alice"
    text = str(problem)
    for word in ("loans.csv", "alice", "bob", "carol", f"expired on {PAST}", "Fix:",
                 "--override-terms", "loans.csv.axon-data.json"):
        assert word in text


def test_the_python_api_refuses_it_too(tmp_path):
    with pytest.raises(WorkflowInvalidError, match="expired on"):
        studio.run(expired(tmp_path), record=False)


def test_the_command_line_refuses_it_with_exit_code_2_and_writes_nothing(tmp_path):
    flow = expired(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "studio.cli.main", "run", str(flow),
                             "--out", str(out)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert "expired on" in result.stderr and "Traceback" not in result.stderr
    assert "alice" in result.stderr and "Fix:" in result.stderr
    assert not out.exists()


def test_an_override_is_recorded_in_the_record_and_the_model(tmp_path):
    flow = expired(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "studio.cli.main", "run", str(flow),
                             "--out", str(out), "--override-terms",
                             "audit of last year's loans, approved by J."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "run_record.json").read_text())
    override = record["ownership"]["override"]
    assert override["reason"].startswith("audit of last year")
    assert {v["owner"] for v in override["violations"]} == {"alice", "bob", "carol"}
    assert {v["term"] for v in override["violations"]} == {"expires"}
    model = json.loads((out / "outputs" / "train.model" / "ownership.json").read_text())
    assert model["use"]["override"] == override["reason"]
    assert model["use"]["overridden_terms"] == override["violations"]
    assert model["use"]["run_id"] == record["run_id"]


def test_purpose_region_and_exclusivity(tmp_path):
    csv = write_loans(tmp_path, purposes=["research"], regions=["EU"], expires=FUTURE,
                      exclusive_to="acme-research")
    flow = training_workflow(csv, tmp_path)

    def refused(**settings: object) -> set[str]:
        workflow = load_workflow(flow)
        workflow.info.extra.update(settings)
        from studio.engine import check_workflow

        return {p.term for p in check_workflow(workflow) if isinstance(p, TermsProblem)}

    assert refused() == {"purposes", "regions", "exclusive_to"}
    ok = {"purpose": "Research", "region": "DE", "licensee": "acme-research"}
    assert refused(**ok) == set()  # DE is in the EU; purposes compare without case
    assert refused(**{**ok, "region": "US"}) == {"regions"}
    assert refused(**{**ok, "region": "NO"}) == {"regions"}  # EEA, not EU
    assert refused(**{**ok, "purpose": "marketing"}) == {"purposes"}
    assert refused(**{**ok, "licensee": "someone-else"}) == {"exclusive_to"}


def test_studio_run_options_declare_the_use_and_a_refusal_is_kept(tmp_path):
    flow = expired(tmp_path)
    runs = tmp_path / "runs"
    workflow = load_workflow(flow)
    args = argparse.Namespace(file=str(flow), purpose="research", region="DE",
                              override_terms=None, runs_dir=str(runs))
    with pytest.raises(TermsRefusedError):
        enforce_run_terms(workflow, args)
    assert (workflow.info.extra["purpose"], workflow.info.extra["region"]) == ("research", "DE")
    [stored] = RunStore(runs).list()
    assert stored.status == "refused"
    refused = stored.record["ownership"]["refused"]
    assert {(v["owner"], v["term"]) for v in refused} == {
        ("alice", "expires"), ("bob", "expires"), ("carol", "expires")}
    # With --override-terms the same run goes ahead; a stored override is not replayed.
    workflow.info.extra["override_terms"] = "from an old file"
    enforce_run_terms(workflow, argparse.Namespace(**{**vars(args),
                                                      "override_terms": "renewal pending"}))
    assert workflow.info.extra["override_terms"] == "renewal pending"
    with Engine() as engine:
        record = engine.run(workflow)
    assert record.status == "succeeded"
    assert record.ownership["override"]["reason"] == "renewal pending"
    with pytest.raises(TermsRefusedError):
        enforce_run_terms(workflow, args)  # without the option: refused again
    assert "override_terms" not in workflow.info.extra


def test_a_refusal_from_the_app_is_kept_the_same_way(tmp_path):
    workflow = load_workflow(expired(tmp_path))
    from studio.engine import check_workflow

    problems = [p for p in check_workflow(workflow) if isinstance(p, TermsProblem)]
    record = record_refusal(workflow, problems, runs_dir=tmp_path / "runs", source="gui")
    assert RunStore(tmp_path / "runs").get(record.run_id).source == "gui"


def test_a_bad_sidecar_or_setting_is_a_problem_not_a_traceback(tmp_path):
    csv = write_loans(tmp_path)
    sidecar = csv.with_name(csv.name + ".axon-data.json")
    document = json.loads(sidecar.read_text())
    document["ownership"]["terms"]["expires"] = "next year"
    sidecar.write_text(json.dumps(document))
    workflow = load_workflow(training_workflow(csv, tmp_path, purpose=7))
    from studio.engine import check_workflow

    messages = [str(p) for p in check_workflow(workflow)]
    assert any("expires' must be a date" in m for m in messages)
    assert any("setting 'purpose' must be text" in m for m in messages)


def test_a_path_relative_to_the_workflow_file_is_checked_where_the_run_reads_it(
        tmp_path, monkeypatch):
    """The check resolves a relative path as the run does (from the workflow file's
    folder): from anywhere else the expired sidecar would go unseen and the rows used."""
    folder = tmp_path / "project"
    folder.mkdir()
    flow = expired(folder)
    workflow = load_workflow(flow)
    workflow.set_param("data", "path", "loans.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    events = []
    with Engine() as engine:
        engine.events.subscribe(events.append)
        with pytest.raises(WorkflowInvalidError) as caught:
            engine.run(workflow, workflow_path=flow)
    assert events == []
    [problem] = caught.value.problems
    assert (problem.dataset, problem.term) == ("loans.csv", "expires")
    assert str(folder / "loans.csv.axon-data.json") in problem.fix


def test_studio_run_purpose_and_region_options_are_what_the_terms_are_checked_against(
        tmp_path):
    csv = write_loans(tmp_path, purposes=["research"], regions=["EU"])
    flow = training_workflow(csv, tmp_path)  # the file declares no use

    def studio_run(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "studio.cli.main", "run", str(flow),
                               "--out", str(tmp_path / "out"), *options], cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)

    refused = studio_run("--purpose", "marketing", "--region", "DE")
    assert refused.returncode == 2, refused.stderr
    assert "marketing" in refused.stderr and "Traceback" not in refused.stderr
    done = studio_run("--purpose", "research", "--region", "DE")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "run_record.json").read_text())
    [dataset] = record["ownership"]["datasets"]
    assert record["lineage"]["datasets"][0]["ownership"]["use"]["purpose"] == "research"
    assert dataset["digest"]["rows"] == 120
