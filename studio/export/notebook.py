"""An exported script as a Jupyter notebook: one code cell per node, no outputs.

The notebook holds the same code as the script (studio.export.script), cut
into cells: a markdown cell with the workflow's name and description, a
code cell with the imports and helper functions, then for each node, in
run order, a markdown cell (its title, type and comment) and a code cell;
a last cell prints the metrics. No cell holds an output or an execution
count: whoever opens it sees only results they computed themselves, top
to bottom. nbformat (``pip install 'axon-studio[notebook]'``) writes and
validates it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nodes.errors import StudioError
from studio.export.script import ExportedScript


def build_notebook(script: ExportedScript) -> Any:
    """The notebook (an nbformat v4 NotebookNode) of ``script``."""
    nbformat = _nbformat()
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    intro = [f"# {script.name or 'Workflow'}", ""]
    if script.description:
        intro += [script.description, ""]
    intro += [f"Written by `studio export-script --notebook` from `{script.source}`: plain "
              "pandas and scikit-learn, no Axon Studio import. Run the cells from top to "
              "bottom; each cell after the setup is one node of the workflow, in the order "
              "the workflow runs them. The last cell prints the metrics of every Evaluate "
              "node, as `studio run --json` does."]
    cells = [new_markdown("\n".join(intro)),
             new_code(script.preamble().rstrip("\n") + "\n\nmetrics = {}")]
    for block in script.blocks:
        text = f"## {block.title}\n\n*{block.type_title}* (`{block.node_id}`)"
        if block.comment:
            text += f"\n\n{block.comment}"
        cells.append(new_markdown(text))
        cells.append(new_code("\n".join(block.lines)))
    cells.append(new_markdown("## Metrics"))
    cells.append(new_code("\n".join(script.footer)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    return notebook


def write_notebook(script: ExportedScript, path: str | os.PathLike[str]) -> Path:
    """Write ``script`` as a notebook to ``path`` (atomically)."""
    from studio.workflow.fileformat import atomic_write_text

    nbformat = _nbformat()
    path = Path(path)
    atomic_write_text(path, nbformat.writes(build_notebook(script)) + "\n")
    return path


def _nbformat() -> Any:
    try:
        import nbformat
    except ImportError:
        raise StudioError("writing a notebook needs nbformat, which is not installed.",
                          fix="pip install 'axon-studio[notebook]', or export a script "
                              "(without --notebook).") from None
    return nbformat
