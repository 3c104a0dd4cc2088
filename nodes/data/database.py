"""Import Data from a database: a table or a query, through SQLAlchemy."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from nodes.context import DatasetRead, RunContext
from nodes.contract import ScoringRole
from nodes.data.checks import require_columns
from nodes.data.files import note_outside_read, resolve_path
from nodes.digest import file_digest, frame_digest
from nodes.errors import NodeInputError, ParameterError
from nodes.node import Node
from nodes.params import ChoiceParam, ColumnParam, StringParam
from nodes.ports import TABLE, Output
from nodes.values import Table

#: The environment variable that holds the password, unless 'password_variable' names another.
PASSWORD_VARIABLE = "AXON_STUDIO_DB_PASSWORD"
#: Cache keys are computed often (the app does on every edit): a query run for one
#: is not run again for this long. The node itself always reads afresh.
_READ_REUSE_S = 2.0


class ImportDatabase(Node):
    """Read a table, or the rows of a SQL query, from a database.

    Output 'data': the rows read. Every column is a feature, except
    'label_column' (empty: no label), which gets the label role.

    'url' is a SQLAlchemy URL without a password: sqlite:///data.db (a file;
    a relative path starts at the workflow file's folder), postgresql://user@host/db
    (needs axon-studio[postgres]), and others through their drivers.
    Passwords never go into the workflow file: with 'credentials'
    'environment' the password is read from the environment variable named by
    'password_variable'; with 'keyring', from the system keyring (service
    'axon-studio', the URL's user name; needs axon-studio[keyring]). 'source'
    'table' reads the whole 'table'; 'query' runs 'query', a SELECT.

    The cache key holds the URL, the query and a digest of what was read (for
    SQLite the file's digest), so changed rows make the node run again; the
    run's lineage records that digest and the row count.
    """

    type_id = "import_database"
    version = 1
    title = "Import Data (Database)"
    category = "Data"
    aliases = ("Import Data", "Reader", "SQL Database")
    scoring_role = ScoringRole.TRAINING_ONLY
    imports = ("sqlalchemy",)

    class Outputs:
        data = Output(TABLE, help="The rows read from the database.")

    url = StringParam("", allow_empty=False,
                      help="SQLAlchemy URL without a password, e.g. sqlite:///data.db.")
    source = ChoiceParam("table", ["table", "query"], help="Read a whole table, or a query.")
    table = StringParam("", help="The table to read (source 'table').")
    query = StringParam("", multiline=True, help="A SELECT to run (source 'query').")
    credentials = ChoiceParam("none", ["none", "environment", "keyring"],
                              help="Where the password comes from (never the file).")
    password_variable = StringParam(PASSWORD_VARIABLE, advanced=True,
                                    help="Environment variable holding the password.")
    label_column = ColumnParam("", help="Column to mark as the label; empty: no label.")

    @classmethod
    def check_parameters(cls, values: dict[str, Any], label: str) -> None:
        url = _parse_url(label, values["url"])
        if url.password:
            raise ParameterError(label, "url", _safe_url(values["url"]),
                                 "it must not hold a password (the workflow file is shared)",
                                 fix="Remove the password from the URL and set 'credentials' "
                                     "to 'environment' or 'keyring'.")
        if values["source"] == "table" and not values["table"].strip():
            raise ParameterError(label, "table", values["table"], "it must name a table",
                                 fix="Name the table, or set 'source' to 'query'.")
        if values["source"] == "query" and not values["query"].strip():
            raise ParameterError(label, "query", values["query"], "it must be a query",
                                 fix="Write a SELECT, or set 'source' to 'table'.")

    @classmethod
    def source_digest(cls, params: Mapping[str, Any]) -> str | None:
        try:
            values = cls.validate_params(params)
        except ParameterError:
            return None  # unfinished: the node reports it when it runs
        sqlite_file = _sqlite_file(values["url"])
        statement = _statement(values)
        if sqlite_file is not None:
            if not sqlite_file.is_file():
                return None
            return hashlib.sha256(f"{file_digest(sqlite_file)}\n{statement}".encode()
                                  ).hexdigest()
        frame = _read(cls.title, values)  # no file to digest: what the query gives
        return hashlib.sha256(f"{frame_digest(frame)}\n{statement}".encode()).hexdigest()

    def run(self, ctx: RunContext) -> dict[str, Any]:
        values = dict(self.params)
        sqlite_file = _sqlite_file(self.url)
        if sqlite_file is not None and not sqlite_file.is_file():
            raise NodeInputError(self.label, f"the SQLite file {sqlite_file} does not exist.",
                                 fix="Correct the 'url' (sqlite:///path/to/file.db).")
        frame = _query(self.label, values)
        if sqlite_file is not None:
            note_outside_read(ctx, sqlite_file)
        table = Table(frame.reset_index(drop=True))
        roles = {}
        if self.label_column:
            require_columns(self.label, table, [self.label_column], port=None,
                            why=" named by the 'label_column' parameter")
            roles[self.label_column] = "label"
        ctx.record_dataset(DatasetRead(
            name=self.table if self.source == "table" else "query",
            sha256=frame_digest(frame), source=_safe_url(self.url), rows=len(frame),
            columns=len(frame.columns)))
        return {"data": Table(table.frame, roles)}


# -- reading ---------------------------------------------------------------------------

_recent: dict[tuple[str, str], tuple[float, pd.DataFrame]] = {}
_recent_lock = threading.Lock()


def _read(node: str, values: Mapping[str, Any]) -> pd.DataFrame:
    """The rows, for a cache key (a burst of key computations reads once)."""
    key = (values["url"], _statement(values))
    with _recent_lock:
        seen = _recent.get(key)
        if seen is not None and time.monotonic() - seen[0] < _READ_REUSE_S:
            return seen[1]
    frame = _query(node, values)
    with _recent_lock:
        _recent.clear()  # keep one result: they can be large
        _recent[key] = (time.monotonic(), frame)
    return frame


def _query(node: str, values: Mapping[str, Any]) -> pd.DataFrame:
    import sqlalchemy

    url = _parse_url(node, values["url"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(resolve_path(url.database)))
    password = _password(node, values, url)
    if password is not None:
        url = url.set(password=password)
    try:
        engine = sqlalchemy.create_engine(url)
    except (ModuleNotFoundError, ImportError) as error:
        extra = {"postgresql": "postgres"}.get(url.get_backend_name(), url.get_backend_name())
        raise NodeInputError(node, f"the database driver for {url.get_backend_name()} is not "
                             f"installed ({error}).",
                             fix=f"pip install 'axon-studio[{extra}]'") from None
    try:
        with engine.connect() as connection:
            if values["source"] == "table":
                if not sqlalchemy.inspect(connection).has_table(values["table"]):
                    raise NodeInputError(node, f"the database has no table "
                                         f"{values['table']!r}.",
                                         fix="Correct 'table' (names are case-sensitive).")
                statement: Any = sqlalchemy.select(sqlalchemy.text("*")).select_from(
                    sqlalchemy.table(values["table"]))
            else:
                statement = sqlalchemy.text(values["query"])
            return pd.read_sql(statement, connection)
    except NodeInputError:
        raise
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
        cause = error.__cause__ if isinstance(error, pd.errors.DatabaseError) else error
        message = str(getattr(cause, "orig", None) or cause or error).splitlines()[0]
        raise NodeInputError(node, f"reading {_safe_url(values['url'])} failed: {message}",
                             fix="Check the URL, the credentials and the table or query."
                             ) from None
    finally:
        engine.dispose()


def _password(node: str, values: Mapping[str, Any], url: Any) -> str | None:
    if values["credentials"] == "environment":
        name = values["password_variable"] or PASSWORD_VARIABLE
        if name not in os.environ:
            raise NodeInputError(node, f"the environment variable {name} (the password) is "
                                 "not set.", fix=f"Set {name} before running.")
        return os.environ[name]
    if values["credentials"] == "keyring":
        try:
            import keyring
        except ImportError:
            raise NodeInputError(node, "the keyring package is not installed.",
                                 fix="pip install 'axon-studio[keyring]'") from None
        password = keyring.get_password("axon-studio", url.username or "")
        if password is None:
            raise NodeInputError(node, f"the keyring holds no password for user "
                                 f"{url.username!r} (service 'axon-studio').",
                                 fix="Store it: keyring set axon-studio USER")
        return password
    return None


def _statement(values: Mapping[str, Any]) -> str:
    return (f"table:{values['table']}" if values["source"] == "table"
            else f"query:{values['query']}")


def _parse_url(node: str, text: str) -> Any:
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(text)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise ParameterError(node, "url", _safe_url(text),
                             "it must be a SQLAlchemy URL such as sqlite:///data.db or "
                             "postgresql://user@host/database") from None


def _sqlite_file(text: str) -> Any:
    import sqlalchemy

    try:
        url = sqlalchemy.engine.make_url(text)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return resolve_path(url.database)


def _safe_url(text: str) -> str:
    """The URL as it may be shown: any password hidden."""
    try:
        import sqlalchemy

        return sqlalchemy.engine.make_url(text).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show only its scheme
        return text.split("://", 1)[0] + "://..." if "://" in text else "(not a URL)"
