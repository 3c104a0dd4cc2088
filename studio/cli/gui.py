"""`studio` / `studio gui [FILE]`: the desktop app, or a headless run where there is none."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from studio.cli.info import has_display, platform_problem, start_platform_probe
from studio.cli.main import EXIT_INVALID, build_parser


def gui_command(args: argparse.Namespace) -> int:
    app_available = importlib.util.find_spec("studio.gui") is not None
    reason = None
    if not has_display():
        reason = "No display available"
    elif not app_available:
        reason = "The desktop app is not part of this build yet"
    else:
        # A platform plugin that cannot load aborts the process with a page of Qt
        # messages, so a test app tries first, in a subprocess, while this one
        # imports the GUI (which takes longer: the check costs no start time).
        probe = start_platform_probe()
        from studio.gui.app import run_app

        problem = platform_problem(probe)
        if problem is None:
            return run_app(args.file)
        reason = f"The desktop app cannot open a window: {problem.describe()}"
    if not args.file:
        print(f"{reason}; give a workflow to run it headless, e.g. "
              "`studio run examples/housing_regression.axon.json`.", file=sys.stderr)
        return EXIT_INVALID
    print(f"{reason}; running '{args.file}' with the headless runner instead.", flush=True)
    from studio.cli.run import run_command

    return run_command(build_parser().parse_args(["run", args.file]))
