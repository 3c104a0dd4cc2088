"""What the app remembers between sessions: recent files, the window layout, the
memory for results and the MLflow tracking URI.

Settings live in one INI file in the user's config folder (platformdirs, so
``XDG_CONFIG_HOME`` moves it, as tests do). QSettings cannot tell a list of
one string from that string once it went through a file, and gives None
for a list it never stored: ``string_list`` reads every such value back as
a list, so one saved file is one recent entry, not one per character.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def settings_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("axon-studio")) / "studio.ini"


def app_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def string_list(value: Any) -> list[str]:
    """A stored list of strings, however QSettings hands it back."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(item) for item in value if item]


def memory_mb() -> int:
    """Run Settings' memory for results, in MB (-1: the default, a quarter of RAM)."""
    try:
        return int(app_settings().value("run/memory_mb", -1))
    except (TypeError, ValueError):
        return -1


def remember_memory_mb(value: int) -> None:
    settings = app_settings()
    settings.setValue("run/memory_mb", int(value))
    settings.sync()


def mlflow_uri() -> str:
    """Run Settings' MLflow tracking URI ("": runs go to the local run store only)."""
    value = app_settings().value("run/mlflow_uri", "")
    return value.strip() if isinstance(value, str) else ""


def remember_mlflow_uri(value: str) -> None:
    settings = app_settings()
    settings.setValue("run/mlflow_uri", str(value).strip())
    settings.sync()


def recent_files() -> list[Path]:
    """Recently opened or saved workflows that still exist, newest first."""
    return [Path(p) for p in string_list(app_settings().value("recent")) if Path(p).is_file()]


def remember_recent(path: Path) -> None:
    settings = app_settings()
    text = str(Path(path).resolve())
    recent = [p for p in string_list(settings.value("recent")) if p != text]
    settings.setValue("recent", [text, *recent][:MAX_RECENT])
    settings.sync()


def forget_recent(path: Path) -> None:
    settings = app_settings()
    text = str(Path(path).resolve())
    settings.setValue("recent", [p for p in string_list(settings.value("recent")) if p != text])
    settings.sync()
