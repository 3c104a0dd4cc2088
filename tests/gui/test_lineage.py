"""Data ownership in the app (issue 18): the Lineage panel, the data use of a run, a
refusal by the data's terms before any node runs, an override recorded, and a sidecar
attached from the app. Real files, sidecars, runs and widgets."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QTreeWidgetItem

from nodes.ownership.sidecar import sidecar_path
from studio.engine import Engine, MemoryCache
from studio.engine.states import NodeState
from studio.gui.document import Document
from studio.runs import RunStore
from tests.gui.conftest import EXAMPLES, RUN_TIMEOUT_MS, log_texts, run_and_wait
from tests.ownership.helpers import OWNERS, loans_frame, training_workflow, write_loans

PAST = (date.today() - timedelta(days=30)).isoformat()
FUTURE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture(autouse=True)
def _own_runs(tmp_path, monkeypatch):
    """Each test its own run history: the statements count what the test did."""
    monkeypatch.setenv("AXON_STUDIO_RUNS_DIR", str(tmp_path / "runs"))


def open_window(make_window, flow):
    window = make_window(Document.open(flow, engine=Engine(cache=MemoryCache())))
    events = []
    window.document.engine.events.subscribe(events.append)
    return window, events


def wait_refused(window, qtbot) -> None:
    with qtbot.waitSignal(window.runner.run_invalid, timeout=RUN_TIMEOUT_MS):
        window.run_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=RUN_TIMEOUT_MS)


def show_lineage(window, qtbot, node_id: str):
    """Select ``node_id`` with the Lineage tab in front; wait for what it shows."""
    window.select_nodes([node_id])
    panel = window.show_lineage()  # Run > Data Lineage
    qtbot.waitUntil(panel.isVisible)
    qtbot.waitUntil(lambda: not panel.job.busy and panel.node_id == node_id,
                    timeout=RUN_TIMEOUT_MS)
    return panel


def tree_texts(item: QTreeWidgetItem) -> dict[str, str]:
    return {item.child(i).text(0): item.child(i).text(1) for i in range(item.childCount())}


def section(panel, title: str) -> QTreeWidgetItem:
    tree = panel.tree
    for index in range(tree.topLevelItemCount()):
        if tree.topLevelItem(index).text(0).startswith(title):
            return tree.topLevelItem(index)
    raise AssertionError(f"no section {title!r} in the Lineage panel")


def click_ok(dialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    for role in (QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Save):
        button = box.button(role)
        if button is not None:
            button.click()
            return


def test_a_run_on_an_expired_dataset_is_refused_before_any_node_runs(make_window, qtbot,
                                                                      tmp_path):
    csv = write_loans(tmp_path, expires=PAST, license="CC-BY-4.0")
    window, events = open_window(make_window, training_workflow(csv, tmp_path))
    badge = window.scene.nodes["data"]
    assert any("expired on" in p for p in badge.problems)  # said before the run, too
    wait_refused(window, qtbot)
    assert [e.kind for e in events] == []  # not even run_started: nothing ran
    assert window.document.engine.last == {}
    assert {i.state for i in window.scene.nodes.values()} == {NodeState.NOT_RUN}
    refusal = "\n".join(log_texts(window))
    for word in ("refused by the terms of its data", "loans.csv", "alice, bob and carol",
                 f"expired on {PAST}", "Fix: Ask alice, bob and carol for new terms",
                 str(sidecar_path(csv)), "Run > Data Use"):
        assert word in refusal, word
    status = window.status_label.text()
    assert status.startswith("Refused:") and "loans.csv" in status and "expired" in status
    assert window.scene.selected_node_ids() == ["data"]
    # Kept in the run history as refused, with every owner's refused term, from the app.
    qtbot.waitUntil(lambda: any(r.status == "refused" for r in RunStore().list()),
                    timeout=RUN_TIMEOUT_MS)
    [stored] = [r for r in RunStore().list() if r.status == "refused"]
    assert stored.source == "gui"
    assert {(v["owner"], v["term"]) for v in stored.record["ownership"]["refused"]} == {
        (o, "expires") for o in OWNERS}
    qtbot.waitUntil(lambda: any("kept in the run history" in t for t in log_texts(window)))


def test_the_data_use_dialog_declares_the_use_and_an_override_is_recorded(make_window, qtbot,
                                                                          tmp_path):
    csv = write_loans(tmp_path, expires=PAST, purposes=["research"], regions=["EU"])
    window, events = open_window(make_window, training_workflow(csv, tmp_path))
    window.act_data_use.trigger()
    dialog = window.data_use_dialog
    qtbot.keyClicks(dialog.purpose, "research")
    qtbot.keyClicks(dialog.region, "DE")
    # The dialog says what the terms make of the use as typed (checked off the GUI thread).
    qtbot.waitUntil(lambda: not dialog.checking, timeout=RUN_TIMEOUT_MS)
    assert "expired on" in dialog.verdict.text()
    assert "purposes" not in dialog.verdict.text() and "region" not in dialog.verdict.text()
    box = dialog.override_box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked() and dialog.reason.isEnabled()
    click_ok(dialog)  # no reason given: refused, the dialog stays open
    assert dialog.isVisible() and "reason" in dialog.error.text()
    qtbot.keyClicks(dialog.reason, "audit of last year's loans, approved by J.")
    click_ok(dialog)
    assert not dialog.isVisible()
    extra = window.document.workflow.info.extra
    assert (extra["purpose"], extra["region"]) == ("research", "DE")
    assert "override_terms" not in extra  # never saved with the file
    assert window.document.dirty  # saved with the workflow, and undoable
    run_and_wait(window, qtbot)
    record = window._last_record
    assert record.status == "succeeded"
    override = record.ownership["override"]
    assert override["reason"] == "audit of last year's loans, approved by J."
    assert {(v["owner"], v["term"]) for v in override["violations"]} == {
        (o, "expires") for o in OWNERS}
    assert record.ownership["use"]["purpose"] == "research"
    assert any("overridden for this run" in t for t in log_texts(window))
    panel = show_lineage(window, qtbot, "train")
    assert panel.override.isVisible() and "audit of last year" in panel.override.text()
    assert "expires" in tree_texts(section(panel, "Terms overridden"))
    # The override held for that run only: the next one is refused again.
    window.document.workflow.set_param("split", "fraction", 0.6)
    wait_refused(window, qtbot)
    assert any("refused by the terms" in t for t in log_texts(window))
    window.document.undo_stack.undo()  # the use declared goes back as it was
    assert "purpose" not in window.document.workflow.info.extra


def test_the_lineage_panel_shows_datasets_owners_terms_digest_and_statement(make_window,
                                                                            qtbot, tmp_path):
    csv = write_loans(tmp_path, expires=FUTURE, license="CC-BY-4.0",
                      attribution="Loans cooperative, 2026", purposes=["research"])
    window, _ = open_window(make_window, training_workflow(csv, tmp_path, purpose="research"))
    panel = show_lineage(window, qtbot, "data")  # before a run: what the sidecar declares
    assert "before a run" in panel.heading.text()
    assert panel.describe_button.isVisible()
    deposit = json.loads(sidecar_path(csv).read_text())["deposit"]
    assert section(panel, "Digest").child(0).data(1, Qt.ItemDataRole.UserRole) == \
        deposit["root"]
    run_and_wait(window, qtbot)
    panel = show_lineage(window, qtbot, "train")
    record = window._last_record.to_dict()
    trained = next(m for m in record["ownership"]["models"] if m["node"] == "train")
    assert "Model" in panel.heading.text() and window._last_record.run_id in \
        panel.heading.text()
    digest = tree_texts(section(panel, "Digest"))
    training_rows = len(loans_frame()) * 7 // 10
    assert digest["rows"] == f"{training_rows} (traced row by row)"
    root = section(panel, "Digest").child(0)
    assert root.data(1, Qt.ItemDataRole.UserRole) == trained["digest"]["root"]
    assert "purpose research" in digest["use"]
    owners = section(panel, "Owners")
    assert owners.text(0) == "Owners (3)"
    rows = {owners.child(i).text(0): owners.child(i).text(1) for i in range(3)}
    assert set(rows) == set(OWNERS)
    assert sum(int(r.split()[0]) for r in rows.values()) == training_rows
    alice = tree_texts(owners.child(0))
    assert alice == {"subtree root": trained["digest"]["owners"]["alice"]["root"][:16] + "…",
                     "purposes": "research", "expires": FUTURE, "regions": "any",
                     "exclusive to": "no one (not exclusive)", "license": "CC-BY-4.0",
                     "attribution": "Loans cooperative, 2026"}
    dataset = section(panel, "Datasets").child(0)
    assert (dataset.text(0), dataset.text(1)) == ("loans.csv", "120 rows")
    assert tree_texts(dataset)["rows as deposited"] == "yes"
    assert not panel.override.isVisible()
    statement = panel.statement.toPlainText()
    for word in ("alice", "bob", "carol", "deposits (1)", "withdrawals (1 runs",
                 "models (", f"'{trained['name']}'", "refused uses (0)"):
        assert word in statement, word
    # A node that made no model from owned data says so.
    show_lineage(window, qtbot, "evaluate")
    assert "made no model from owned data" in panel.heading.text()
    assert panel.tree.topLevelItemCount() == 0


def test_a_sidecar_attached_from_the_app_is_enforced_at_the_next_run(make_window, qtbot,
                                                                     tmp_path):
    plain = tmp_path / "plain.csv"
    loans_frame().to_csv(plain, index=False)
    window, events = open_window(make_window, training_workflow(plain, tmp_path))
    panel = show_lineage(window, qtbot, "data")
    assert "has no sidecar" in panel.heading.text()
    qtbot.mouseClick(panel.describe_button, Qt.MouseButton.LeftButton)
    dialog = window.describe_dialog
    assert dialog.owner_column.findText("owner") >= 0  # the file's columns are offered
    dialog.owner_column.setCurrentText("owner")
    qtbot.keyClicks(dialog.expires, "31-12-2020")  # not a date: the dialog says so
    click_ok(dialog)
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=RUN_TIMEOUT_MS)
    assert "expires" in dialog.error.text() and "YYYY-MM-DD" in dialog.error.text()
    assert not sidecar_path(plain).exists()
    dialog.expires.setText(PAST)
    qtbot.keyClicks(dialog.license, "CC-BY-4.0")
    with qtbot.waitSignal(dialog.described, timeout=RUN_TIMEOUT_MS):
        click_ok(dialog)
    sidecar = json.loads(sidecar_path(plain).read_text())
    assert sidecar["ownership"]["owner_column"] == "owner"
    assert {o["id"] for o in sidecar["ownership"]["owners"]} == set(OWNERS)
    assert sidecar["ownership"]["terms"] == {"expires": PAST, "license": "CC-BY-4.0"}
    assert sidecar["deposit"]["rows"] == 120
    qtbot.waitUntil(lambda: "before a run" in panel.heading.text(), timeout=RUN_TIMEOUT_MS)
    assert section(panel, "Owners").text(0) == "Owners (3)"
    assert any("expired on" in p for p in window.scene.nodes["data"].problems)
    wait_refused(window, qtbot)
    assert events == []
    assert any(f"expired on {PAST}" in t for t in log_texts(window))


def test_a_service_bundle_shows_the_data_behind_its_model(make_window, qtbot, tmp_path):
    from studio.ownership.artifacts import ownership_manifest
    from studio.serve.bundle import export_bundle
    from studio.serve.prepare import prepare_scoring_workflow
    from studio.workflow import load_workflow

    workflow = load_workflow(EXAMPLES / "breast_cancer_classification.axon.json")
    workflow.info.extra.update(purpose="research", region="FR")
    with Engine() as engine:
        record = engine.run(workflow)
        scoring = prepare_scoring_workflow(workflow, engine, artifact_dir=tmp_path / "stored")
    export_bundle(scoring, tmp_path / "service")
    manifest = json.loads((tmp_path / "service" / "manifest.json").read_text())
    assert manifest["ownership"] == ownership_manifest(scoring)  # written by the export
    window = make_window()
    window.act_lineage.trigger()
    panel = window.lineage_panel
    qtbot.waitUntil(panel.isVisible)
    with qtbot.waitSignal(panel.shown, timeout=RUN_TIMEOUT_MS):
        panel.show_bundle(tmp_path / "service")
    trained = next(m for m in record.ownership["models"] if m["node"] == "train")
    assert panel.heading.text().startswith("<b>Service")
    assert section(panel, "Digest").child(0).data(1, Qt.ItemDataRole.UserRole) == \
        trained["digest"]["root"]
    owner = section(panel, "Owners").child(0)
    assert (owner.text(0), owner.text(1)) == ("UCI Machine Learning Repository "
                                              "(uci-ml-repository)", "398 rows")
    assert tree_texts(owner)["license"] == "CC-BY-4.0"
    assert "purpose research, region FR" in tree_texts(section(panel, "Digest"))["use"]
    assert not panel.describe_button.isVisible()
