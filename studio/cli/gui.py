"""`studio` / `studio gui [FILE]`: the desktop app, or a headless run where there is none."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from studio.cli.info import has_display
from studio.cli.main import EXIT_INVALID, build_parser


def gui_command(args: argparse.Namespace) -> int:
    app_available = importlib.util.find_spec("studio.gui") is not None
    if app_available and has_display():
        from studio.gui.app import run_app

        return run_app(args.file)
    reason = ("No display available" if not has_display()
              else "The desktop app is not part of this build yet")
    if not args.file:
        print(f"{reason}; give a workflow to run it headless, e.g. "
              "`studio run examples/housing_regression.axon.json`.", file=sys.stderr)
        return EXIT_INVALID
    print(f"{reason}: running '{args.file}' with the headless runner instead.", flush=True)
    from studio.cli.run import run_command

    return run_command(build_parser().parse_args(["run", args.file]))
