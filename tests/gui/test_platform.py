"""Starting on a desktop where Qt's platform plugin cannot load (issue 13, item 7).

Qt aborts the whole process, with a page of messages, when its platform
plugin fails to load: `studio doctor` must find that out in a subprocess and
name what to install, and `studio` must say it in one line and run the
workflow headless instead. A plugin folder holding a copy of the real xcb
plugin, away from the Qt libraries it links to, fails to load for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.info import debian_package, missing_from_ldd

ROOT = Path(__file__).resolve().parents[2]
HOUSING = ROOT / "examples" / "housing_regression.axon.json"

# What `ldd libqxcb.so` printed on a Debian 12 machine without libxcb-icccm4 and
# libxcb-keysyms1 (abridged to the lines that matter).
LDD_WITHOUT_XCB_LIBRARIES = """\
\tlinux-vdso.so.1 (0x00007f4548bf7000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x1)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f4548b13000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f4548b0c000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f4547f71000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
"""


def test_the_missing_libraries_become_debian_package_names():
    missing = missing_from_ldd(LDD_WITHOUT_XCB_LIBRARIES)
    assert missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert [debian_package(name) for name in missing] == ["libxcb-icccm4", "libxcb-keysyms1"]
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libEGL.so.1") == "libegl1"


def _qt_plugin() -> Path:
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file() or shutil.which("ldd") is None:
        pytest.skip("needs Qt's xcb plugin and ldd (Linux)")
    return plugin


def _unusable_display_env(tmp_path: Path) -> dict[str, str]:
    """A desktop session on which Qt's xcb plugin cannot start: the X display named
    in DISPLAY does not exist (and on a bare system the plugin's libraries are
    missing too). Either way Qt aborts its process when it tries."""
    _qt_plugin()
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM_PLUGIN_PATH")}
    env.update(DISPLAY=":987", AXON_STUDIO_CACHE_DIR=str(tmp_path / "cache"),
               AXON_STUDIO_RECOVERY_DIR=str(tmp_path / "recovery"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


def _studio(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studio.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=180, check=False)


def test_a_tiny_qt_app_in_a_subprocess_shows_the_failure_this_process_would_die_of(tmp_path):
    env = _unusable_display_env(tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import sys; from PySide6.QtGui import "
                            "QGuiApplication; QGuiApplication(sys.argv[:1])"], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert probe.returncode != 0  # what `studio` would have died of, before this fix
    assert "platform plugin" in probe.stderr


def test_studio_says_in_one_line_that_qt_cannot_open_a_window_and_runs_headless(tmp_path):
    process = _studio("gui", str(HOUSING), env=_unusable_display_env(tmp_path), cwd=tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    about_qt = [line for line in output.splitlines() if "platform plugin" in line]
    assert len(about_qt) == 1, output
    assert "does not load" in about_qt[0] and "headless" in about_qt[0]
    assert "Available platform plugins" not in output  # Qt's own page of messages
    assert "succeeded" in process.stdout


def test_doctor_checks_that_the_platform_plugin_really_loads(tmp_path):
    """'Display available' because DISPLAY is set was the bug: doctor now asks Qt. On a
    system without the plugin's libraries it names their Debian packages; with them it
    says the display cannot be reached."""
    plugin = _qt_plugin()
    process = _studio("doctor", env=_unusable_display_env(tmp_path), cwd=tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr  # the GUI is optional
    (display,) = [line for line in process.stdout.splitlines() if " Display " in line]
    assert display.startswith("NO"), display
    assert "xcb platform plugin does not load" in display
    missing = missing_from_ldd(subprocess.run(["ldd", str(plugin)], capture_output=True,
                                              text=True).stdout)
    if missing:
        assert "apt-get install " + " ".join(debian_package(m) for m in missing) in display
    else:
        assert "could not connect to display :987" in display, display
