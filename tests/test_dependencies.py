"""Declared dependencies equal imported ones: pyproject.toml against the code's imports.

Every ``import`` and ``from ... import`` of studio/ and nodes/ is read with
``ast`` (plus the modules node types declare in ``imports``, which the
engine imports for them), mapped to the distribution that installs it
(``importlib.metadata.packages_distributions``), and compared with
pyproject.toml:

- what the code imports is declared, in the dependencies or in an extra
  (not only in 'dev', which is for the tests);
- what an extra declares is imported lazily (inside a function, under
  ``TYPE_CHECKING``, or guarded by ``except ImportError``), so a plain
  install imports it nowhere;
- what is declared is imported, or listed in ``NOT_IMPORTED`` with the
  reason it is needed anyway;
- tests/, bench/ and tools/ import only what some list declares.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("studio", "nodes")
HELPERS = ("tests", "bench", "tools")
FIRST_PARTY = {"studio", "nodes", "sample_datasets", "tests"}

#: Declared distributions no ``import`` of ours names, and why they are declared.
NOT_IMPORTED = {
    "psycopg": "SQLAlchemy loads it for postgresql:// URLs (extra 'postgres')",
    "s3fs": "fsspec loads it for s3:// paths (extra 's3')",
    "gcsfs": "fsspec loads it for gs:// paths (extra 'gcs')",
    "aiohttp": "fsspec loads it for https:// paths (extra 'http'; in dev for the tests)",
}

#: Large or rarely needed: these must stay out of the plain install.
MUST_BE_EXTRAS = {"tensorflow", "keras", "mlflow-skinny", "nbformat"}


@dataclass(frozen=True)
class Import:
    """One import of a module outside the standard library and our own packages."""

    module: str  # the top-level name, e.g. "sklearn"
    path: Path
    line: int
    lazy: bool  # not run when the importing module is imported

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


# -- pyproject.toml ------------------------------------------------------------------------

@cache
def declared() -> dict[str, set[str]]:
    """Canonical distribution names per list: 'dependencies', then each extra by name.

    ``dask[distributed]`` also declares what dask's extra 'distributed' installs.
    """
    return {name: {dist for text in requirements for dist in _distributions(text)}
            for name, requirements in requirement_lists().items()}


def requirement_lists() -> dict[str, list[str]]:
    """pyproject's requirement strings: 'dependencies', then each extra by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"dependencies": project["dependencies"], **project["optional-dependencies"]}


def _distributions(requirement_text: str) -> set[str]:
    requirement = Requirement(requirement_text)
    names = {canonicalize_name(requirement.name)}
    for extra in requirement.extras:
        for text in metadata.requires(requirement.name) or []:
            pulled = Requirement(text)
            if pulled.marker is not None and pulled.marker.evaluate({"extra": extra}):
                names.add(canonicalize_name(pulled.name))
    return names


def base() -> set[str]:
    return declared()["dependencies"]


def shipped_extras() -> set[str]:
    return {d for name, dists in declared().items() if name not in ("dependencies", "dev")
            for d in dists}


# -- the code's imports --------------------------------------------------------------------

def distributions_of(module: str) -> set[str]:
    """The distributions that install top-level ``module`` (its own name when none here
    does: an extra's package need not be installed to be checked)."""
    found = _packages_distributions().get(module)
    return {canonicalize_name(d) for d in found} if found else {canonicalize_name(module)}


@cache
def _packages_distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()  # reads every installed RECORD: once


def imports_under(folders: tuple[str, ...]) -> list[Import]:
    local = set(FIRST_PARTY)
    files = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]
    if folders != SHIPPED:  # test and benchmark helpers import each other by file name
        local |= {p.stem for p in files} | {p.parent.name for p in files}
    found = []
    for path in files:
        for imported in _imports_of(path):
            top = imported.module
            if top not in sys.stdlib_module_names and top not in local and top != "__future__":
                found.append(imported)
    return found


def _imports_of(path: Path, source: str | None = None) -> list[Import]:
    if source is None:
        source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif _declared_node_imports(node, parents):
            # Node.imports: imported by the engine before the node first runs.
            found += [Import(value.split(".")[0], path, node.lineno, lazy=True)
                      for value in _strings(node.value)]
            continue
        else:
            continue
        lazy = _is_lazy(node, parents)
        found += [Import(name.split(".")[0], path, node.lineno, lazy) for name in names]
    return found


def _declared_node_imports(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    return (isinstance(node, ast.Assign) and isinstance(parents.get(node), ast.ClassDef)
            and any(isinstance(t, ast.Name) and t.id == "imports" for t in node.targets))


def _strings(value: ast.expr) -> list[str]:
    items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
    return [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def _is_lazy(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
        if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test):
            return child in parent.body
        if isinstance(parent, ast.Try) and child in parent.body and any(
                _catches_import_error(handler) for handler in parent.handlers):
            return True
        child, parent = parent, parents.get(parent)
    return False


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = ast.unparse(handler.type) if handler.type is not None else "BaseException"
    return any(name in caught for name in ("ImportError", "ModuleNotFoundError",
                                           "Exception"))


@cache
def shipped_imports() -> tuple[Import, ...]:
    return tuple(imports_under(SHIPPED))


def _by_distribution(imports: tuple[Import, ...] | list[Import]) -> dict[str, list[Import]]:
    grouped: dict[str, list[Import]] = defaultdict(list)
    for imported in imports:
        for dist in distributions_of(imported.module):
            grouped[dist].append(imported)
    return grouped


def _listing(problems: dict[str, list[Import]]) -> str:
    return "\n".join(f"  {dist}: {', '.join(i.where() for i in uses[:4])}"
                     + (f" and {len(uses) - 4} more" if len(uses) > 4 else "")
                     for dist, uses in sorted(problems.items()))


# -- the checks ----------------------------------------------------------------------------

def test_the_walk_tells_eager_imports_from_lazy_ones():
    source = """
import numpy as np, json
from pandas.api import types
from . import sibling
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import rich
try:
    import keyring
except ImportError:
    keyring = None
try:
    import regex
finally:
    pass
class Node:
    imports = ("sklearn.base", "scipy.stats")
    import networkx
def run():
    import tensorflow
"""
    found = {(i.module, i.lazy) for i in _imports_of(ROOT / "example.py", source)}
    assert found == {("numpy", False), ("json", False), ("pandas", False), ("typing", False),
                     ("rich", True), ("keyring", True), ("regex", False), ("sklearn", True),
                     ("scipy", True), ("networkx", False), ("tensorflow", True)}


def test_the_walk_finds_the_code_s_imports():
    grouped = _by_distribution(shipped_imports())
    assert {"numpy", "pandas", "scikit-learn", "tensorflow", "keras", "pyside6-essentials"} \
        <= set(grouped)
    assert any(not i.lazy for i in grouped["pandas"])
    assert grouped["tensorflow"] and all(i.lazy for i in grouped["tensorflow"])


def test_every_distribution_the_code_imports_is_declared():
    allowed = base() | shipped_extras()
    missing = {dist: uses for dist, uses in _by_distribution(shipped_imports()).items()
               if dist not in allowed}
    # A module installed by several distributions needs only one of them declared.
    missing = {dist: uses for dist, uses in missing.items()
               if not any(distributions_of(i.module) & allowed for i in uses)}
    assert not missing, ("studio/ and nodes/ import distributions that pyproject.toml does "
                         "not declare (add them to dependencies, or to an extra and import "
                         f"them lazily):\n{_listing(missing)}")


def test_what_an_extra_declares_is_imported_lazily():
    optional = shipped_extras() - base()
    eager = {dist: [i for i in uses if not i.lazy]
             for dist, uses in _by_distribution(shipped_imports()).items() if dist in optional}
    eager = {dist: uses for dist, uses in eager.items() if uses}
    assert not eager, ("distributions of an extra are imported when a module is, so a plain "
                       f"install would fail there; import them inside a function:\n"
                       f"{_listing(eager)}")


def test_every_declared_distribution_is_imported_or_says_why_not():
    imported = set(_by_distribution(shipped_imports()))
    top_level = {canonicalize_name(Requirement(text).name)
                 for name, requirements in requirement_lists().items() if name != "dev"
                 for text in requirements}
    unused = sorted(top_level - imported - set(NOT_IMPORTED))
    assert not unused, (f"pyproject.toml declares {unused}, which nothing in studio/ or "
                        "nodes/ imports: remove them, or list them in NOT_IMPORTED with the "
                        "reason they are needed")
    assert set(NOT_IMPORTED) <= top_level, "NOT_IMPORTED names something no longer declared"


def test_the_heavy_and_rare_distributions_stay_in_extras():
    assert not MUST_BE_EXTRAS & base()
    assert shipped_extras() >= MUST_BE_EXTRAS
    assert {"tensorflow", "keras"} <= declared()["keras"] <= declared()["dev"]


@pytest.mark.parametrize("folder", HELPERS)
def test_tests_and_tools_import_only_declared_distributions(folder):
    allowed = {d for dists in declared().values() for d in dists}
    missing = {dist: uses for dist, uses in _by_distribution(imports_under((folder,))).items()
               if dist not in allowed
               and not any(distributions_of(i.module) & allowed for i in uses)}
    assert not missing, (f"{folder}/ imports distributions no list of pyproject.toml "
                         f"declares (add them to 'dev'):\n{_listing(missing)}")

