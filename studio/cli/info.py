"""`studio validate`, `studio nodes` and `studio doctor`."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
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
    required_ok = all(ok for name, ok, _ in rows
                      if name not in ("Display", "Dask", "TensorFlow/Keras"))
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
    if not has_display():
        return ("Display", False, "none (no DISPLAY or WAYLAND_DISPLAY): `studio` runs "
                "workflows headless; for the GUI use a desktop session, or `xvfb-run studio`")
    problem = platform_problem()
    where = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "the desktop"
    if problem is None:
        return "Display", True, f"{where}: Qt's platform plugin loads"
    return "Display", False, f"{where}, but {problem.describe()}"


#: What a Qt platform plugin needs on Debian/Ubuntu when ``ldd`` cannot tell
#: (Qt's own list for xcb since 6.5).
_XCB_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
                 "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1", "libxkbcommon-x11-0")

_PROBE = ("import sys\n"
          "from PySide6.QtGui import QGuiApplication\n"
          "app = QGuiApplication(sys.argv[:1])\n"
          "print(app.platformName())\n")


@dataclass(frozen=True)
class PlatformProblem:
    """Qt cannot open a window here: which plugin, why, and what to install."""

    platform: str
    reason: str
    missing: tuple[str, ...] = ()
    #: Debian/Ubuntu packages that hold the missing system libraries.
    packages: tuple[str, ...] = ()
    #: Libraries of Qt itself are missing: the PySide6 install is damaged.
    qt_damaged: bool = False

    def describe(self) -> str:
        """One line: what fails, why, and the fix."""
        text = f"Qt's {self.platform} platform plugin does not load"
        if self.missing:
            text += f" (missing {', '.join(self.missing)})"
        elif self.reason:
            text += f" ({self.reason})"
        fixes = []
        if self.packages:
            fixes.append(f"apt-get install {' '.join(self.packages)}")
        if self.qt_damaged:
            fixes.append("pip install --force-reinstall PySide6-Essentials")
        return text + (f" -- fix: {'; '.join(fixes)}" if fixes else "")


def start_platform_probe() -> subprocess.Popen[str]:
    """Start a tiny Qt app in a subprocess (a platform plugin that fails to load
    aborts its process, so this one must not try first). Read it with
    ``platform_problem(probe)``; it runs while the caller imports the GUI."""
    return subprocess.Popen([sys.executable, "-c", _PROBE], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def platform_problem(probe: subprocess.Popen[str] | None = None,
                     timeout: float = 60) -> PlatformProblem | None:
    """None when Qt's platform plugin loads on this display, else what is wrong."""
    probe = probe or start_platform_probe()
    try:
        _, stderr = probe.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        return PlatformProblem(_platform_name(), f"a test window did not open in {timeout:g} s")
    if probe.returncode == 0:
        return None
    platform_name = _platform_name()
    reason = _qt_reason(stderr)
    missing = _missing_libraries(platform_name)
    qt_own = tuple(name for name in missing if name.startswith(_QT_LIBRARIES))
    packages = tuple(debian_package(name) for name in missing if name not in qt_own)
    if not missing and platform_name == "xcb" and "connect to display" not in reason:
        packages = _XCB_PACKAGES  # no ldd here: everything Qt's xcb plugin may need
    return PlatformProblem(platform_name, reason, missing, packages, bool(qt_own))


#: Libraries that ship inside the PySide6 wheel, not with the system.
_QT_LIBRARIES = ("libQt6", "libicu", "libpyside6", "libshiboken6")


def _platform_name() -> str:
    name = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0]
    if name:
        return name
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get(
        "DISPLAY") else "xcb"


def _qt_reason(stderr: str) -> str:
    """The line of Qt's multi-line complaint that says what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "could not connect to display" in line.lower():
            return line.removeprefix("qt.qpa.xcb: ")
    for line in lines:
        if "Could not load the Qt platform plugin" in line:
            return line.removeprefix("qt.qpa.plugin: ")
    return lines[-1] if lines else "the test process stopped"


def _missing_libraries(platform_name: str) -> tuple[str, ...]:
    """Shared libraries the platform plugin needs and the system lacks (``ldd``)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return ()
    folders = [os.environ[k] for k in ("QT_QPA_PLATFORM_PLUGIN_PATH",) if os.environ.get(k)]
    folders += [os.path.join(p, "Qt", "plugins", "platforms")
                for p in spec.submodule_search_locations]
    plugin = next((os.path.join(f, f"libq{platform_name}.so") for f in folders
                   if os.path.isfile(os.path.join(f, f"libq{platform_name}.so"))), None)
    if plugin is None:
        return ()
    try:
        result = subprocess.run(["ldd", plugin], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return missing_from_ldd(result.stdout)


def missing_from_ldd(ldd_output: str) -> tuple[str, ...]:
    """The libraries ``ldd`` reports as 'not found', each once, in order."""
    found = [line.split("=>")[0].strip() for line in ldd_output.splitlines()
             if "not found" in line and "=>" in line]
    return tuple(dict.fromkeys(found))


def debian_package(soname: str) -> str:
    """Debian's name for the package of a library: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (a digit before the version gets a dash)."""
    base, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    if not version:
        return base.lower()
    return f"{base}{'-' if base[-1:].isdigit() else ''}{version}".lower()


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
        return ("TensorFlow/Keras", False, "not installed (optional, for the Keras nodes) "
                "-- fix: pip install 'axon-studio[keras]'")
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
    return ("TensorFlow/Keras", False, f"installed but does not import: {last} -- fix: "
            "pip install --force-reinstall 'axon-studio[keras]'")


def _optional(module: str, dist: str, purpose: str, fix: str) -> tuple[str, bool, str]:
    if importlib.util.find_spec(module) is None:
        return "Dask", False, f"not installed (needed for {purpose}) -- fix: {fix}"
    try:
        return "Dask", True, metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "Dask", False, f"incomplete (needed for {purpose}) -- fix: {fix}"
