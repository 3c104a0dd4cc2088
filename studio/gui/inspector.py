"""The inspector (right dock): help text and a parameter form for the selected node.

The form is generated from the node type's typed parameters: spin boxes with
ranges, combo boxes, check boxes, column pickers filled from the upstream
table's schema once it is known, and a list editor (one JSON item per line,
used for layer stacks). Every change is an undo command; an invalid value is
marked in place with the message and never reaches the model.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from nodes.errors import ParameterError
from nodes.params import Param
from nodes.values import Table
from studio.events import Event
from studio.gui.commands import CommentCommand, RenameNodeCommand, SetParamCommand
from studio.gui.document import Document
from studio.workflow import Workflow

_ERROR_STYLE = "border: 1px solid #eb3b5a;"
#: Readable on a light background (the canvas' warning amber is too pale for text).
WARNING_TEXT = "#a86400"
#: How far upstream a column picker looks for a table whose columns are known.
_UPSTREAM_DEPTH = 16


def reflow(text: str) -> str:
    """Docstring text for a resizable view: paragraphs and list items keep their
    breaks, lines wrapped inside a paragraph are joined."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.splitlines():
            stripped = line.strip()
            if lines and not stripped.startswith(("-", "*", "•")):
                lines[-1] += " " + stripped
            else:
                lines.append(stripped)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def stored_path(chosen: Path, folder: Path | None) -> str:
    """How a chosen file is written in the workflow: relative to the workflow file's
    folder when it sits in it (the pair can then move together), else absolute."""
    chosen = chosen.resolve()
    if folder is not None:
        try:
            return chosen.relative_to(folder.resolve()).as_posix()
        except ValueError:
            pass
    return str(chosen)


class ParamEditor:
    """One parameter's widget: shows a value, reports edits, shows an error."""

    def __init__(self, param: Param, value: Any, commit: Callable[[str, Any], None],
                 columns: list[str] | None, folder: Path | None = None) -> None:
        self.param = param
        #: The workflow file's folder: a file chosen inside it is stored relative to it.
        self.folder = folder
        self.commit = commit
        self.columns = columns
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #eb3b5a;")
        self.error.hide()
        #: Says a chosen column is not among the input's known columns.
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {WARNING_TEXT};")
        self.note.hide()
        #: True while the widget holds a value the model refused.
        self.form_error = False
        self.widget = self._build(value)
        self.widget.setToolTip(param.help)
        self.mark_unknown_columns(value)

    # -- building -----------------------------------------------------------------
    def _build(self, value: Any) -> QWidget:
        kind = self.param.kind
        if kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda checked: self.commit(self.param.name, checked))
            self.input = box
            return box
        if kind == "choice":
            combo = QComboBox()
            combo.addItems(list(self.param.choices))  # type: ignore[attr-defined]
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda text: self.commit(self.param.name, text))
            self.input = combo
            return combo
        if kind == "int":
            spin = QSpinBox()
            low = self.param.minimum if self.param.minimum is not None else -2**31 + 1  # type: ignore[attr-defined]
            high = self.param.maximum if self.param.maximum is not None else 2**31 - 1  # type: ignore[attr-defined]
            spin.setRange(max(low, -2**31 + 1), min(high, 2**31 - 1))
            spin.setValue(int(value))
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda number: self.commit(self.param.name, number))
            self.input = spin
            return spin
        if kind == "columns" and self.columns is not None:
            return self._build_column_picker(value)
        if kind == "list" or (kind == "string" and getattr(self.param, "multiline", False)):
            edit = QPlainTextEdit()
            edit.setPlainText(self._list_text(value) if kind == "list" else str(value))
            edit.setFixedHeight(110)
            if kind == "list":
                edit.setPlaceholderText("One item per line, as JSON")
            edit.installEventFilter(_FocusOut(edit, lambda: self._commit_text(edit)))
            self.input = edit
            return edit
        line = QLineEdit(self._line_text(value))
        line.editingFinished.connect(lambda: self._commit_text(line))
        if kind == "seed":
            line.setPlaceholderText("inherit")
        self.input = line
        if kind == "string" and self.param.name in ("path", "file"):
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(line)
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda: self._browse(line))
            layout.addWidget(browse)
            return row
        return line

    def _build_column_picker(self, value: Any) -> QWidget:
        columns = list(self.columns or [])
        if getattr(self.param, "multiple", False):
            picker = QListWidget()
            chosen = list(value or [])
            for column in [*columns, *[c for c in chosen if c not in columns]]:
                item = QListWidgetItem(column)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if column in chosen
                                   else Qt.CheckState.Unchecked)
                if column not in columns:
                    item.setForeground(QColor(WARNING_TEXT))
                    item.setToolTip("Not a column of the input table as far as it is known")
                picker.addItem(item)
            picker.setFixedHeight(min(160, 22 * max(3, picker.count()) + 6))
            picker.itemChanged.connect(lambda _item: self.commit(
                self.param.name, [picker.item(i).text() for i in range(picker.count())
                                  if picker.item(i).checkState() == Qt.CheckState.Checked]))
            self.input = picker
            return picker
        combo = QComboBox()
        combo.setEditable(True)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        combo.addItem("")
        combo.addItems(columns)
        combo.setCurrentText(str(value))
        combo.currentTextChanged.connect(lambda text: self.commit(self.param.name, text))
        self.input = combo
        return combo

    def mark_unknown_columns(self, value: Any) -> None:
        """Say so in place when a chosen column is not one the input is known to have."""
        if self.param.kind != "columns" or self.columns is None:
            return
        chosen = list(value or []) if isinstance(value, (list, tuple)) else (
            [value] if value else [])
        unknown = [c for c in chosen if c not in self.columns]
        if not unknown:
            self.note.hide()
            return
        listed = ", ".join(self.columns[:8]) + (", \u2026" if len(self.columns) > 8 else "")
        close = difflib.get_close_matches(unknown[0], self.columns, n=2)
        guess = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        self.note.setText(f"Not a column of the input: {', '.join(map(repr, unknown))}{guess}. "
                          f"It has: {listed}.")
        self.note.show()

    def _browse(self, line: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self.widget, "Choose a file", line.text(),
                                              "Data files (*.csv *.tsv *.txt *.parquet);;"
                                              "All files (*)")
        if path:
            line.setText(stored_path(Path(path), self.folder))
            self._commit_text(line)

    # -- values -------------------------------------------------------------------
    def _line_text(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "" if value is None else str(value)

    @staticmethod
    def _list_text(value: Any) -> str:
        return "\n".join(json.dumps(item) for item in value or [])

    def _commit_text(self, widget: QLineEdit | QPlainTextEdit) -> None:
        if isinstance(widget, QPlainTextEdit):
            text = widget.toPlainText()
            if self.param.kind == "list":
                try:
                    value: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
                except ValueError as error:
                    self.show_error(f"Line is not valid JSON: {error}")
                    return
            else:
                value = text
        else:
            value = widget.text()
        self.commit(self.param.name, value)

    def set_value(self, value: Any) -> None:
        """Show a value that changed elsewhere (undo), without committing it again."""
        widget = self.input
        widget.blockSignals(True)
        try:
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QPlainTextEdit):
                text = self._list_text(value) if self.param.kind == "list" else str(value)
                if widget.toPlainText() != text:
                    widget.setPlainText(text)
            elif isinstance(widget, QListWidget):
                chosen = set(value or [])
                for index in range(widget.count()):
                    item = widget.item(index)
                    item.setCheckState(Qt.CheckState.Checked if item.text() in chosen
                                       else Qt.CheckState.Unchecked)
            elif isinstance(widget, QLineEdit):
                widget.setText(self._line_text(value))
        finally:
            widget.blockSignals(False)

    def show_error(self, message: str | None) -> None:
        """Show (or clear) why the value was refused or leaves the node unfinished."""
        if message:
            self.error.setText(message)
            self.error.show()
            self.input.setStyleSheet(_ERROR_STYLE)
        else:
            self.error.hide()
            self.input.setStyleSheet("")


class _FocusOut(QWidget):
    """Commits a multi-line editor when it loses focus."""

    def __init__(self, target: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(target)
        self.callback = callback
        self.hide()

    def eventFilter(self, watched: object, event: Any) -> bool:  # noqa: N802
        if event.type() == event.Type.FocusOut:
            self.callback()
        return False


class Inspector(QWidget):
    """Shows and edits the selected node."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self._updating = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Text wraps to the dock's width instead of running off to the right.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        self.body = QWidget()
        scroll.setWidget(self.body)
        self.layout_ = QVBoxLayout(self.body)
        self.placeholder = QLabel("Select a node to see its help and settings.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.layout_.addWidget(self.placeholder)
        self.content: QWidget | None = None

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.model_event.disconnect(self._on_model_event)
        self.document = document
        if document is not None:
            document.model_event.connect(self._on_model_event)
        self.show_node(None)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.editors = {}
        if self.content is not None:
            self.content.deleteLater()
            self.content = None
        if node_id is None or self.document is None or node_id not in self.document.workflow.nodes:
            self.node_id = None
            self.placeholder.show()
            return
        self.placeholder.hide()
        self.content = self._build(node_id)
        self.layout_.addWidget(self.content, 1)

    def _build(self, node_id: str) -> QWidget:
        assert self.document is not None
        workflow = self.document.workflow
        node = workflow.node(node_id)
        node_type = workflow.registry.get(node.type_id)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        heading = QLabel(f"<b>{node_type.title}</b> <span style='color:gray'>"
                         f"({node_type.category}, id {node.id})</span>")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title_edit = QLineEdit(node.title)
        self.title_edit.setPlaceholderText(node_type.title)
        self.title_edit.setToolTip("The name shown on the card (F2)")
        self.title_edit.editingFinished.connect(self._rename)
        form.addRow("Title", self.title_edit)
        upstream_columns = self._upstream_columns(node_id)
        for name, param in node_type.parameters.items():
            columns = upstream_columns.get(getattr(param, "input_port", "data")) \
                if param.kind == "columns" else None
            workflow_file = self.document.workflow.path
            editor = ParamEditor(param, node.params.get(name), self._commit, columns,
                                 workflow_file.parent if workflow_file else None)
            self.editors[name] = editor
            label = QLabel(param.label or name)
            label.setToolTip(param.help)
            label.setWordWrap(True)
            holder = QWidget()
            holder_layout = QVBoxLayout(holder)
            holder_layout.setContentsMargins(0, 0, 0, 0)
            holder_layout.addWidget(editor.widget)
            holder_layout.addWidget(editor.error)
            holder_layout.addWidget(editor.note)
            # Spare height goes to the help text, not between a label and its field.
            holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            form.addRow(label, holder)
        self.comment_edit = QPlainTextEdit(node.comment)
        self.comment_edit.setPlaceholderText("A note on this node")
        self.comment_edit.setFixedHeight(60)
        self.comment_edit.installEventFilter(_FocusOut(self.comment_edit, self._comment))
        form.addRow("Comment", self.comment_edit)
        layout.addLayout(form)
        help_view = QTextBrowser()
        help_view.setPlainText(reflow(node_type.help_text()))
        help_view.setMinimumHeight(160)
        layout.addWidget(QLabel("<b>Help</b>"))
        layout.addWidget(help_view, 1)  # the spare height goes to the help text
        self._show_completeness()
        return box

    def _upstream_columns(self, node_id: str) -> dict[str, list[str]]:
        """Column names of each input table, where they are known: from the upstream
        node's last result, else declared by a source before it runs (a sample
        dataset's sidecar, a CSV header), looking through the nodes in between
        (their first table input's columns: a fair guess for a picker)."""
        assert self.document is not None
        workflow = self.document.workflow
        columns: dict[str, list[str]] = {}
        for name, port in workflow.node_type(node_id).inputs.items():
            if port.type.name != "Table":
                continue
            edge = workflow.input_edge(node_id, name)
            if edge is not None:
                found = self._columns_of(workflow, edge.source, edge.source_port, 0)
                if found is not None:
                    columns[name] = found
        return columns

    def _columns_of(self, workflow: Workflow, node_id: str, port: str,
                    depth: int) -> list[str] | None:
        assert self.document is not None
        try:
            outputs = self.document.engine.outputs(workflow, node_id)
        except Exception:  # an unfinished upstream workflow: no result to read
            outputs = None
        value = (outputs or {}).get(port)
        if isinstance(value, Table):
            return list(value.frame.columns)
        node = workflow.node(node_id)
        node_type = workflow.registry.get(node.type_id)
        try:
            known = node_type.known_output_columns(node.params)
        except Exception:  # it must not fail; if it does, the picker just knows less
            known = None
        if known and port in known:
            return list(known[port])
        if depth >= _UPSTREAM_DEPTH:
            return None
        for name, input_port in node_type.inputs.items():
            if input_port.type.name == "Table":
                edge = workflow.input_edge(node_id, name)
                if edge is not None:
                    return self._columns_of(workflow, edge.source, edge.source_port, depth + 1)
        return None

    # -- edits ----------------------------------------------------------------------
    def _commit(self, name: str, value: Any) -> None:
        if self._updating or self.document is None or self.node_id is None:
            return
        editor = self.editors[name]
        try:
            command = SetParamCommand(self.document.workflow, self.node_id, name, value)
        except ParameterError as error:
            editor.form_error = True
            editor.show_error(error.message.split(": ", 1)[-1])
            return
        editor.form_error = False
        editor.show_error(None)
        editor.mark_unknown_columns(command.new)
        if command.new != self.document.workflow.node(self.node_id).params.get(name):
            self.document.undo_stack.push(command)
        self._show_completeness()

    def _rename(self) -> None:
        if self.document is None or self.node_id is None:
            return
        title = self.title_edit.text().strip()
        if title != self.document.workflow.node(self.node_id).title:
            self.document.undo_stack.push(RenameNodeCommand(self.document.workflow,
                                                            self.node_id, title))

    def _comment(self) -> None:
        if self.document is None or self.node_id is None:
            return
        text = self.comment_edit.toPlainText()
        if text != self.document.workflow.node(self.node_id).comment:
            self.document.undo_stack.push(CommentCommand(self.document.workflow,
                                                         self.node_id, text))

    def _show_completeness(self) -> None:
        """Mark parameters that are well formed but leave the node unfinished."""
        if self.document is None or self.node_id is None:
            return
        node = self.document.workflow.node(self.node_id)
        node_type = self.document.workflow.registry.get(node.type_id)
        _, problems = node_type.parameter_problems(node.params, self.document.workflow.label(
            self.node_id))
        flagged = {p.parameter: p for p in problems}
        for name, editor in self.editors.items():
            if editor.form_error:
                continue
            problem = flagged.get(name)
            editor.show_error(problem.message.split(": ", 1)[-1] if problem else None)

    def _on_model_event(self, event: Event) -> None:
        if self.node_id is None or self.document is None:
            return
        if event.kind == "node_removed" and event["node"].id == self.node_id:
            self.show_node(None)
        elif event.kind == "param_changed" and event["node_id"] == self.node_id:
            editor = self.editors.get(event["name"])
            if editor is not None:
                self._updating = True
                try:
                    editor.set_value(event["new"])
                    editor.form_error = False
                    editor.show_error(None)
                    editor.mark_unknown_columns(event["new"])
                finally:
                    self._updating = False
                self._show_completeness()
        elif (event.kind == "node_renamed" and event["node_id"] == self.node_id
              and self.title_edit.text() != event["title"]):
            self.title_edit.setText(event["title"])
