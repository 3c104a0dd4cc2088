"""Editing the workflow model: every edit, every refusal, every event."""

from __future__ import annotations

import pytest

from nodes import ParameterError
from studio.workflow import Workflow, WorkflowEditError


@pytest.fixture
def workflow(toy_registry) -> Workflow:
    return Workflow(toy_registry)


def test_add_node_fills_defaults_and_makes_readable_unique_ids(workflow):
    first = workflow.add_node("make_table", {"rows": 3})
    second = workflow.add_node("make_table")
    assert (first.id, second.id) == ("make_table", "make_table_2")
    assert first.params == {"rows": 3, "scale": 1.0}
    assert second.params == {"rows": 5, "scale": 1.0}


def test_add_node_rejects_bad_parameters_naming_node_and_parameter(workflow):
    with pytest.raises(ParameterError) as info:
        workflow.add_node("make_table", {"rows": -1}, title="Source")
    assert info.value.parameter == "rows"
    assert "Source" in str(info.value) and "rows" in str(info.value) and "-1" in str(info.value)
    assert workflow.nodes == {}


def test_unknown_type_suggests_close_names(workflow):
    with pytest.raises(Exception) as info:
        workflow.add_node("make_tabel")
    assert "make_table" in str(info.value)


def test_connect_and_disconnect_publish_events(workflow):
    seen = []
    workflow.events.subscribe(lambda e: seen.append(e.kind))
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("add_constant", node_id="add")
    edge = workflow.connect("src", "data", "add", "data")
    workflow.disconnect(edge)
    assert seen == ["node_added", "node_added", "edge_added", "edge_removed"]
    assert workflow.edges == []


def test_refuses_incompatible_port_types_with_the_reason(workflow):
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("needs_learner", node_id="dst")
    with pytest.raises(WorkflowEditError) as info:
        workflow.connect("src", "data", "dst", "learner")
    message = str(info.value)
    assert "Table" in message and "Learner" in message
    assert workflow.edges == []


def test_refuses_unknown_ports_listing_the_real_ones(workflow):
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("add_constant", node_id="add")
    with pytest.raises(WorkflowEditError, match="no output 'table'.*outputs: data"):
        workflow.connect("src", "table", "add", "data")
    with pytest.raises(WorkflowEditError, match="no input 'input'.*inputs: data"):
        workflow.connect("src", "data", "add", "input")


def test_refuses_a_second_wire_into_one_input(workflow):
    workflow.add_node("make_table", node_id="a")
    workflow.add_node("make_table", node_id="b")
    workflow.add_node("add_constant", node_id="add")
    workflow.connect("a", "data", "add", "data")
    with pytest.raises(WorkflowEditError, match="already fed by"):
        workflow.connect("b", "data", "add", "data")


def test_refuses_cycles_and_self_loops(workflow):
    for node_id in ("a", "b", "c"):
        workflow.add_node("add_constant", node_id=node_id)
    workflow.connect("a", "data", "b", "data")
    workflow.connect("b", "data", "c", "data")
    with pytest.raises(WorkflowEditError, match="cycle"):
        workflow.connect("c", "data", "a", "data")
    with pytest.raises(WorkflowEditError, match="itself"):
        workflow.connect("a", "data", "a", "data")
    assert workflow.connection_problem("c", "data", "a", "data") is not None


def test_remove_node_removes_its_wires_and_returns_them_for_undo(workflow):
    workflow.add_node("make_table", node_id="src")
    workflow.add_node("add_constant", node_id="add")
    workflow.add_node("sleep", node_id="sleep")
    workflow.connect("src", "data", "add", "data")
    workflow.connect("add", "data", "sleep", "data")
    node, edges = workflow.remove_node("add")
    assert workflow.edges == [] and "add" not in workflow.nodes
    workflow.insert_node(node)
    for edge in edges:
        workflow.connect(edge.source, edge.source_port, edge.target, edge.target_port)
    assert len(workflow.edges) == 2


def test_set_param_validates_and_only_publishes_real_changes(workflow):
    workflow.add_node("make_table", node_id="src")
    changes = []
    workflow.events.subscribe(lambda e: changes.append(e.data), kind="param_changed")
    assert workflow.set_param("src", "rows", "7") == 7
    workflow.set_param("src", "rows", 7)
    assert changes == [{"node_id": "src", "name": "rows", "old": 5, "new": 7}]
    with pytest.raises(ParameterError, match="rows"):
        workflow.set_param("src", "rows", 2.5)
    with pytest.raises(ParameterError, match="no such parameter"):
        workflow.set_param("src", "colour", 1)
    assert workflow.nodes["src"].params["rows"] == 7


def test_revision_changes_on_semantic_edits_not_on_moves(workflow):
    workflow.add_node("make_table", node_id="src")
    before = workflow.revision
    workflow.move_node("src", (10, 20))
    workflow.rename_node("src", "Source")
    assert workflow.revision == before
    workflow.set_param("src", "rows", 9)
    assert workflow.revision == before + 1
    assert workflow.label("src") == "Source"
    assert workflow.find_node("Source").id == "src"


def test_find_node_reports_ambiguous_titles(workflow):
    workflow.add_node("make_table", node_id="a", title="Data")
    workflow.add_node("make_table", node_id="b", title="Data")
    with pytest.raises(WorkflowEditError, match="Several nodes"):
        workflow.find_node("Data")


def test_annotations_round_trip_through_edits(workflow):
    note = workflow.add_annotation("hello", (1, 2, 3, 4))
    workflow.update_annotation(note.id, text="changed")
    assert workflow.annotations[note.id].text == "changed"
    workflow.remove_annotation(note.id)
    assert workflow.annotations == {}


def test_copy_is_independent(workflow):
    workflow.add_node("make_table", node_id="src")
    clone = workflow.copy()
    clone.set_param("src", "rows", 99)
    assert workflow.nodes["src"].params["rows"] == 5


def test_an_unfinished_node_can_be_placed_saved_and_loaded_but_not_run(tmp_path):
    """Dropping Import CSV on the canvas must work before the user picks a file."""
    from studio.engine import check_workflow
    from studio.workflow import load_workflow, save_workflow

    workflow = Workflow()
    workflow.add_node("import_csv", node_id="csv")
    loaded = load_workflow(save_workflow(workflow, tmp_path / "w.axon.json"))
    (problem,) = check_workflow(loaded)
    assert problem.node == "csv" and "'path'" in str(problem) and "empty" in str(problem)


def test_every_refusal_is_a_typed_error_carrying_the_node_and_port(workflow):
    from studio.workflow.errors import (
        CycleError,
        DuplicateWireError,
        InputTakenError,
        PortTypeError,
        UnknownNodeError,
        UnknownPortError,
    )

    workflow.add_node("make_table", node_id="a")
    workflow.add_node("make_table", node_id="b")
    workflow.add_node("add_constant", node_id="add")
    workflow.add_node("needs_learner", node_id="learn")
    workflow.connect("a", "data", "add", "data")
    cases = [
        (("b", "data", "add", "data"), InputTakenError, "add", "data"),
        (("a", "data", "add", "data"), DuplicateWireError, "add", "data"),
        (("add", "data", "add", "data"), CycleError, "add", "data"),
        (("a", "data", "learn", "learner"), PortTypeError, "learn", "learner"),
        (("a", "nope", "add", "data"), UnknownPortError, "a", "nope"),
        (("ghost", "data", "add", "data"), UnknownNodeError, "ghost", None),
    ]
    for (source, source_port, target, target_port), kind, node, port in cases:
        refusal = workflow.connection_refusal(source, source_port, target, target_port)
        assert isinstance(refusal, kind) and (refusal.node, refusal.port) == (node, port)
        with pytest.raises(kind) as info:
            workflow.connect(source, source_port, target, target_port)
        assert info.value.reason == refusal.reason and refusal.reason in str(info.value)
    existing = workflow.connection_refusal("b", "data", "add", "data").existing
    assert existing.source == "a"
    assert workflow.connection_refusal("a", "data", "learn", "learner").source_type == "Table"


def test_delete_then_restore_gives_the_same_document_byte_for_byte(workflow):
    from studio.workflow import dumps

    for node_id in ("src", "mid", "add", "end"):
        workflow.add_node("make_table" if node_id == "src" else "add_constant",
                          node_id=node_id, position=(len(node_id), 2))
    workflow.connect("src", "data", "mid", "data")
    workflow.connect("mid", "data", "add", "data")
    workflow.connect("add", "data", "end", "data")
    workflow.add_annotation("first", annotation_id="n1")
    workflow.add_annotation("second", annotation_id="n2")
    before = dumps(workflow)
    removal = workflow.remove_items(["mid"], annotation_ids=["n1"])
    assert "mid" not in workflow.nodes and len(workflow.edges) == 1
    workflow.restore(removal)
    assert dumps(workflow) == before
    removal = workflow.remove_items(edges=[workflow.edges[1]])
    workflow.restore(removal)
    assert dumps(workflow) == before


def test_a_multiple_input_takes_several_wires_in_order():
    from nodes import TABLE, Input, Node, NodeRegistry, Output
    from nodes.contract import ScoringRole

    class Source(Node):
        """A source."""

        type_id = "source"
        scoring_role = ScoringRole.TRAINING_ONLY

        class Outputs:
            data = Output(TABLE)

    class Gather(Node):
        """Gathers tables."""

        type_id = "gather"
        scoring_role = ScoringRole.TRAINING_ONLY

        class Inputs:
            tables = Input(TABLE, multiple=True)

        class Outputs:
            data = Output(TABLE)

    model = Workflow(NodeRegistry([Source, Gather]))
    for node_id in ("s1", "s2", "s3"):
        model.add_node("source", node_id=node_id)
    model.add_node("gather", node_id="g")
    for node_id in ("s2", "s1", "s3"):
        model.connect(node_id, "data", "g", "tables")
    assert [e.source for e in model.input_edges("g", "tables")] == ["s2", "s1", "s3"]
    with pytest.raises(WorkflowEditError, match="already connected"):
        model.connect("s1", "data", "g", "tables")
