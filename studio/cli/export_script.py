"""`studio export-script` and `studio export-model`: taking a workflow elsewhere.

    studio export-script FILE --out pipeline.py [--notebook] [--set N.P=V] [--seed N]
    studio export-model FILE --node train --out model.skops [--trust]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodes.errors import StudioError
from studio.cli.main import EXIT_FAILED, EXIT_INVALID, EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The two subcommands (called by studio.cli.main)."""
    script = sub.add_parser(
        "export-script", help="write the workflow as a plain pandas + scikit-learn script",
        description="Write the workflow as a readable Python script (or with --notebook a "
                    "Jupyter notebook) that imports no Axon Studio module and prints the same "
                    "metrics as 'studio run --json'.")
    script.add_argument("file", help="the workflow file (*.axon.json)")
    script.add_argument("--out", required=True, metavar="FILE",
                        help="the script (.py) or, with --notebook, the notebook (.ipynb)")
    script.add_argument("--notebook", action="store_true",
                        help="write a Jupyter notebook: one cell per node, no stored outputs")
    script.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NODE.PARAM=VALUE",
                        help="override a parameter first, as 'studio run --set'; repeatable")
    script.add_argument("--seed", type=_seed, default=None,
                        help="the workflow seed to write the script with")
    script.add_argument("--overwrite", action="store_true", help="replace an existing FILE")

    model = sub.add_parser(
        "export-model", help="write a trained model as one scikit-learn Pipeline (skops)",
        description="Train the workflow (unchanged nodes are cache hits) and write the model "
                    "of NODE, with the fitted transforms before it, as one scikit-learn "
                    "Pipeline in a skops file.")
    model.add_argument("file", help="the workflow file (*.axon.json)")
    model.add_argument("--node", required=True, metavar="NODE",
                       help="the node whose model to export (e.g. Train Model's id or title)")
    model.add_argument("--out", required=True, metavar="FILE",
                       help="the skops file to write (e.g. model.skops)")
    model.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="NODE.PARAM=VALUE", help="override a parameter first; repeatable")
    model.add_argument("--trust", action="store_true",
                       help="allow nodes that run code stored in the workflow file")
    model.add_argument("--overwrite", action="store_true", help="replace an existing FILE")


def _seed(text: str) -> int:
    from studio.cli.main import _seed as seed

    return seed(text)


def _check_out(path: Path, suffixes: tuple[str, ...], overwrite: bool) -> None:
    if path.suffix.lower() not in suffixes:
        raise StudioError(f"--out {path} should end with {' or '.join(suffixes)}.",
                          fix=f"Name the file e.g. pipeline{suffixes[0]}.")
    if path.is_dir():
        raise StudioError(f"--out {path} is a folder.", fix="Give a file name.")
    if path.exists() and not overwrite:
        raise StudioError(f"--out {path} exists.", fix="Add --overwrite to replace it.")
    if not path.parent.exists():
        raise StudioError(f"the folder {path.parent} does not exist.",
                          fix="Create it first, or write elsewhere.")


def export_script_command(args: argparse.Namespace) -> int:
    from studio.cli.run import apply_overrides
    from studio.export.notebook import write_notebook
    from studio.export.script import build_script
    from studio.workflow import load_workflow
    from studio.workflow.fileformat import atomic_write_text

    err = sys.stderr
    out = Path(args.out)
    try:
        _check_out(out, (".ipynb",) if args.notebook else (".py",), args.overwrite)
        workflow = load_workflow(args.file)
        apply_overrides(workflow, args.overrides)
        if args.seed is not None:
            workflow.info.seed = args.seed
        script = build_script(workflow, workflow_path=args.file)
        if args.notebook:
            write_notebook(script, out)
        else:
            atomic_write_text(out, script.text())
    except StudioError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    except OSError as error:
        print(f"error: {out} could not be written: {error}", file=err)
        return EXIT_FAILED
    kind = "notebook" if args.notebook else "script"
    print(f"Wrote the {kind} {out} ({len(script.blocks)} nodes). Run it with: "
          + (f"jupyter notebook {out}" if args.notebook else f"python {out}"))
    return EXIT_OK


def export_model_command(args: argparse.Namespace) -> int:
    from studio.cli.run import apply_overrides
    from studio.export.model import export_model
    from studio.workflow import load_workflow

    err = sys.stderr
    out = Path(args.out)
    try:
        _check_out(out, (".skops",), args.overwrite)
        workflow = load_workflow(args.file)
        if args.trust:
            workflow.trust()
        apply_overrides(workflow, args.overrides)
        exported = export_model(workflow, args.node, out, workflow_path=args.file)
    except StudioError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID
    except OSError as error:
        print(f"error: {out} could not be written: {error}", file=err)
        return EXIT_FAILED
    print(f"Wrote {out}: a scikit-learn Pipeline of {len(exported.steps)} step(s) "
          f"({', '.join(exported.steps)}) expecting {len(exported.feature_names)} columns.")
    print("Load it with:\n  import skops.io\n  pipeline = skops.io.load("
          f"{str(out)!r}, trusted={exported.trusted_types!r})")
    return EXIT_OK


COMMANDS = {"export-script": export_script_command, "export-model": export_model_command}
