"""Taking a workflow elsewhere (Qt-free): a plain script, a notebook, one model object.

- :func:`build_script` / :func:`write_script`: the workflow as a pandas +
  scikit-learn script that imports no Axon Studio module;
- :func:`write_notebook`: the same as a Jupyter notebook, one cell per node;
- :func:`export_model`: a trained model and the fitted transforms before it
  as one scikit-learn ``Pipeline`` in a skops file.

See docs/python-api.md ("Taking a workflow with you").
"""

from studio.export.script import ExportedScript, ExportRefusedError, build_script

__all__ = ["ExportRefusedError", "ExportedScript", "build_script"]
