"""`studio validate`, `studio nodes` and `studio doctor`."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from importlib import metadata

from nodes.errors import StudioError
from nodes.registry import default_registry
from studio.cli.main import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from studio.engine import check_workflow
from studio.workflow import load_workflow


def validate_command(args: argparse.Namespace) -> int:
    try:
        workflow = load_workflow(args.file)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    problems = check_workflow(workflow)
    if problems:
        print(f"'{args.file}' loads, but cannot run as it is:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    trust = [n.id for n in workflow.nodes.values()
             if workflow.registry.get(n.type_id).needs_trust]
    print(f"OK: '{args.file}' is valid ({len(workflow.nodes)} nodes, "
          f"{len(workflow.edges)} wires).")
    if trust:
        print(f"Note: {', '.join(trust)} run code stored in the file; "
              "`studio run` needs --trust for them.")
    return EXIT_OK


def nodes_command(args: argparse.Namespace) -> int:
    registry = default_registry()
    types = registry.all()
    if args.category:
        wanted = args.category.lower()
        types = [t for t in types if t.category.lower() == wanted]
        if not types:
            print(f"error: no category '{args.category}'. Categories: "
                  + ", ".join(registry.categories()), file=sys.stderr)
            return EXIT_INVALID
    if args.json:
        print(json.dumps([t.describe() for t in types], indent=2))
        return EXIT_OK
    category = None
    for node_type in types:
        if node_type.category != category:
            category = node_type.category
            print(f"\n{category}\n{'=' * len(category)}")
        print(f"\n  {node_type.title}  ({node_type.type_id}, v{node_type.version})")
        print(f"    {node_type.summary_line()}")
        for label, ports in (("in ", node_type.inputs), ("out", node_type.outputs)):
            if ports:
                print(f"    {label}: " + ", ".join(f"{p.name} ({p.type.name})"
                                                 for p in ports.values()))
        for param in node_type.parameters.values():
            print(f"    - {param.name} [{param.kind}] = {param.default!r}"
                  + (f": {param.help}" if param.help else ""))
    for problem in registry.load_problems:
        print(f"\nwarning: {problem}", file=sys.stderr)
    return EXIT_OK


def doctor_command(args: argparse.Namespace) -> int:
    """Report what is installed and usable; every problem comes with its fix."""
    rows: list[tuple[str, bool, str]] = []
    ok_python = sys.version_info >= (3, 11)
    rows.append(("Python", ok_python, f"{platform.python_version()} ({sys.executable})"
                 + ("" if ok_python else " -- Axon Studio needs Python 3.11 or newer")))
    for dist in ("numpy", "pandas", "scikit-learn", "networkx", "pyarrow", "skops",
                 "platformdirs"):
        rows.append(_distribution(dist, required=True))
    rows.append(_qt())
    rows.append(_display())
    rows.append(_tensorflow(args.import_tensorflow))
    rows.append(_optional("dask", "distributed", "the Dask executor",
                          "pip install 'dask[distributed]'"))
    registry = default_registry()
    rows.append(("Node catalog", not registry.load_problems,
                 f"{len(registry.all())} node types"
                 + "".join(f"; {p}" for p in registry.load_problems)))
    width = max(len(name) for name, _, _ in rows)
    for name, ok, text in rows:
        print(f"{'ok ' if ok else 'NO '} {name.ljust(width)}  {text}")
    required_ok = all(ok for name, ok, _ in rows if name not in ("Display", "Dask"))
    return EXIT_OK if required_ok else EXIT_FAILED


def _distribution(name: str, required: bool) -> tuple[str, bool, str]:
    try:
        return name, True, metadata.version(name)
    except metadata.PackageNotFoundError:
        return name, not required, f"not installed -- fix: pip install {name}"


def _qt() -> tuple[str, bool, str]:
    # In a subprocess: a broken Qt install can abort the interpreter.
    code = ("import os; os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen');"
            "import PySide6, PySide6.QtWidgets; print(PySide6.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    if result.returncode == 0:
        return "Qt (PySide6)", True, result.stdout.strip()
    last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
    fix = "pip install PySide6-Essentials"
    if "lib" in last and ".so" in last:
        fix = ("install the system libraries Qt needs, e.g. on Debian/Ubuntu: "
               "apt-get install libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3")
    return "Qt (PySide6)", False, f"cannot import: {last} -- fix: {fix}"


def _display() -> tuple[str, bool, str]:
    if has_display():
        return "Display", True, "available"
    return ("Display", False, "none (no DISPLAY or WAYLAND_DISPLAY): `studio` runs workflows "
            "headless; for the GUI use a desktop session, or `xvfb-run studio`")


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    platform_name = os.environ.get("QT_QPA_PLATFORM", "")
    if platform_name.startswith(("offscreen", "minimal")):
        return False  # renders nowhere a person could see: run headless instead
    if platform_name.startswith("vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _tensorflow(do_import: bool) -> tuple[str, bool, str]:
    if importlib.util.find_spec("tensorflow") is None:
        return ("TensorFlow/Keras", False,
                "not installed -- Keras nodes will not run; fix: pip install tensorflow")
    version = metadata.version("tensorflow")
    if not do_import:
        return ("TensorFlow/Keras", True, f"{version} installed (imported on first use of a "
                "Keras node; --import-tensorflow to test the import)")
    result = subprocess.run([sys.executable, "-c", "import tensorflow as tf, keras;"
                             "print(tf.__version__, keras.__version__)"],
                            capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        return "TensorFlow/Keras", True, "imports: " + result.stdout.strip()
    last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
    return "TensorFlow/Keras", False, f"installed but does not import: {last}"


def _optional(module: str, dist: str, purpose: str, fix: str) -> tuple[str, bool, str]:
    if importlib.util.find_spec(module) is None:
        return "Dask", False, f"not installed (needed for {purpose}) -- fix: {fix}"
    try:
        return "Dask", True, metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "Dask", False, f"incomplete (needed for {purpose}) -- fix: {fix}"
