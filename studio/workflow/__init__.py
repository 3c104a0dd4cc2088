"""The workflow document (Qt-free): model, edits, events and file format."""

from studio.workflow.errors import (
    Problem,
    WorkflowEditError,
    WorkflowFileError,
    WorkflowInvalidError,
)
from studio.workflow.fileformat import (
    SCHEMA_VERSION,
    SUFFIX,
    dumps,
    load_workflow,
    loads,
    save_workflow,
    workflow_from_dict,
    workflow_to_dict,
)
from studio.workflow.model import (
    Annotation,
    Edge,
    NodeInstance,
    Removal,
    Workflow,
    WorkflowInfo,
)

__all__ = [
    "SCHEMA_VERSION", "SUFFIX", "Annotation", "Edge", "NodeInstance", "Problem", "Removal",
    "Workflow",
    "WorkflowEditError", "WorkflowFileError", "WorkflowInfo", "WorkflowInvalidError", "dumps",
    "load_workflow", "loads", "save_workflow", "workflow_from_dict", "workflow_to_dict",
]
