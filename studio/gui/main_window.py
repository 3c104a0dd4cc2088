"""The main window: palette, canvas, inspector, run log and output viewers."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QToolBar,
    QWidget,
)

from nodes.errors import StudioError
from nodes.node import Node
from studio.engine.record import RunRecord, environment
from studio.engine.states import NodeState
from studio.gui import clipboard, recovery, warmup
from studio.gui.canvas.items import NodeItem
from studio.gui.canvas.scene import WorkflowScene
from studio.gui.canvas.view import WorkflowView
from studio.gui.commands import (
    AddAnnotationCommand,
    AddNodeCommand,
    ConnectCommand,
    PasteCommand,
)
from studio.gui.document import Document
from studio.gui.gc_guard import GuiThreadCollector
from studio.gui.inspector import Inspector
from studio.gui.palette import NodePalette, QuickAdd
from studio.gui.run_controller import RunController
from studio.gui.viewers import viewer_for
from studio.workflow import SUFFIX, WorkflowFileError

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
FILE_FILTER = f"Axon Studio workflows (*{SUFFIX});;All files (*)"
AUTOSAVE_INTERVAL_MS = 60_000
MAX_RECENT = 8

_WINDOWS: list[MainWindow] = []  # keeps top-level windows alive


class MainWindow(QMainWindow):
    """One window per open workflow."""

    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
        GuiThreadCollector.install(QApplication.instance())
        _WINDOWS.append(self)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.document = document or Document(parent=None)
        self.recovery_token = uuid.uuid4().hex[:8]
        self._autosaved_revision = -1
        self._run_total = 0
        self._run_done = 0
        #: Live states of the nodes of the run in progress (None: no run). A badge
        #: refresh during a run keeps these: the cache does not know a node runs.
        self._run_live: dict[str, NodeState] | None = None
        self.resize(1400, 860)

        self.scene = WorkflowScene(self.document)
        self.view = WorkflowView(self.scene)
        self.setCentralWidget(self.view)
        self.palette_panel = NodePalette(self.document.workflow.registry)
        self.inspector = Inspector()
        self.inspector.set_document(self.document)
        self.quick_add = QuickAdd(self.document.workflow.registry, self)
        self.runner = RunController(self.document, self)
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._connect()
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._states_timer = QTimer(self)
        self._states_timer.setSingleShot(True)
        self._states_timer.timeout.connect(self.refresh_states)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(AUTOSAVE_INTERVAL_MS)
        self._update_title()
        self.refresh_states()
        QTimer.singleShot(0, self.view.fit_all)
        QTimer.singleShot(200, warmup.start)

    # -- construction ---------------------------------------------------------------
    def _build_docks(self) -> None:
        left = QDockWidget("Nodes", self)
        left.setObjectName("palette")
        left.setWidget(self.palette_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, left)
        right = QDockWidget("Inspector", self)
        right.setObjectName("inspector")
        right.setWidget(self.inspector)
        right.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, right)
        self.log = QListWidget()
        self.log.setToolTip("Run log: click an entry to select its node")
        self.outputs = QTabWidget()
        self.outputs.setTabsClosable(True)
        self.outputs.tabCloseRequested.connect(self._close_output_tab)
        self.outputs.addTab(self.log, "Run log")
        self.outputs.tabBar().setTabButton(0, self.outputs.tabBar().ButtonPosition.RightSide,
                                           None)
        bottom = QDockWidget("Run log and outputs", self)
        bottom.setObjectName("outputs")
        bottom.setWidget(self.outputs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, bottom)
        self.resizeDocks([bottom], [330], Qt.Orientation.Vertical)
        self.resizeDocks([left, right], [230, 340], Qt.Orientation.Horizontal)
        self.docks = {"palette": left, "inspector": right, "outputs": bottom}
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m nodes")
        self.progress.hide()

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        label = text.replace("&", "").replace("…", "")
        shortcut_text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or label}" + (f" ({shortcut_text})" if shortcut_text else ""))
        action.setStatusTip(tip or label)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey  # noqa: N806
        self.act_new = self._action("&New Window", self.new_window, K.New)
        self.act_open = self._action("&Open…", self.open_dialog, K.Open)
        self.act_save = self._action("&Save", self.save, K.Save)
        self.act_save_as = self._action("Save &As…", self.save_as, K.SaveAs)
        self.act_close = self._action("&Close", self.close, K.Close)
        self.act_undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(K.Undo)
        self.act_redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(K.Redo)
        self.act_copy = self._action("&Copy", self.copy_selection, K.Copy)
        self.act_cut = self._action("Cu&t", self.cut_selection, K.Cut)
        self.act_paste = self._action("&Paste", self.paste, K.Paste)
        self.act_duplicate = self._action("D&uplicate", self.duplicate, "Ctrl+D",
                                          "Duplicate the selected nodes with their wires")
        self.act_delete = self._action("&Delete", self.scene.delete_selection, K.Delete,
                                       "Delete the selected nodes, wires and notes")
        self.act_select_all = self._action("Select &All", self.select_all, K.SelectAll)
        self.act_rename = self._action("Re&name Node", self.rename_selected, "F2")
        self.act_note = self._action("Add &Note", self.add_note, "Ctrl+Shift+N",
                                     "Add a free-text note to the canvas")
        self.act_quick_add = self._action("&Quick Add Node…", self.open_quick_add, "Ctrl+K",
                                          "Search and add a node (also Tab or right-click)")
        self.act_fit = self._action("&Fit to Window", self.view.fit_all, "Ctrl+0")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.view.zoom_by(1.2), K.ZoomIn)
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.view.zoom_by(1 / 1.2),
                                         K.ZoomOut)
        self.act_run = self._action("&Run All", self.run_all, "F5",
                                    "Run the workflow (unchanged nodes come from the cache)")
        self.act_run_selected = self._action("Run &Selected", self.run_selected, "Shift+F5",
                                             "Run the selected nodes and what they need")
        self.act_cancel = self._action("&Cancel Run", self.runner.cancel, "Ctrl+.",
                                       "Stop the run between nodes or inside long nodes")
        self.act_cancel.setEnabled(False)
        self.act_visualize = self._action("&Visualize Output", self.visualize_selected, "Ctrl+E",
                                          "Open the first output of the selected node")
        self.act_run_settings = self._action("Run Se&ttings…", self.edit_run_settings, None,
                                             "Where nodes run: this process or a Dask cluster")
        self.act_publish = self._action("&Publish as Web Service…", self.publish, "Ctrl+Shift+P",
                                        "Turn the trained workflow into a scoring service")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.act_new, self.act_open):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.examples_menu = file_menu.addMenu("&Examples")
        for path in sorted(EXAMPLES_DIR.glob(f"*{SUFFIX}")):
            action = self.examples_menu.addAction(path.name.removesuffix(SUFFIX)
                                                  .replace("_", " ").capitalize())
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        file_menu.addSeparator()
        for action in (self.act_save, self.act_save_as, self.act_close):
            file_menu.addAction(action)
        edit_menu = bar.addMenu("&Edit")
        for action in (self.act_undo, self.act_redo, None, self.act_cut, self.act_copy,
                       self.act_paste, self.act_duplicate, self.act_delete, self.act_select_all,
                       None, self.act_rename, self.act_note, self.act_quick_add):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        for action in (self.act_fit, self.act_zoom_in, self.act_zoom_out):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        run_menu = bar.addMenu("&Run")
        for action in (self.act_run, self.act_run_selected, self.act_cancel, None,
                       self.act_run_settings, None, self.act_visualize, self.act_publish):
            run_menu.addSeparator() if action is None else run_menu.addAction(action)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.act_open, self.act_save, None, self.act_undo, self.act_redo, None,
                       self.act_run, self.act_run_selected, self.act_cancel, None, self.act_fit,
                       self.act_quick_add):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)
        self._refresh_recent_menu()

    def _connect(self) -> None:
        self.palette_panel.node_requested.connect(
            lambda type_id: self.add_node(type_id, self.view.center_scene_pos()))
        self.view.node_dropped.connect(self.add_node)
        self.view.quick_add_requested.connect(self.open_quick_add_at)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self.scene.status_message.connect(self.show_status)
        self.scene.output_clicked.connect(self.open_viewer)
        self.scene.wire_dropped_on_canvas.connect(self._wire_dropped)
        self.scene.node_activated.connect(self._node_activated)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.document.model_event.connect(self._on_model_event)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.path_changed.connect(self._update_title)
        self.runner.run_started.connect(self._run_started)
        self.runner.node_state.connect(self._node_state)
        self.runner.node_progress.connect(
            lambda node_id, fraction, _msg: self.scene.set_node_progress(node_id, fraction))
        self.runner.run_finished.connect(self._run_finished)
        self.runner.run_invalid.connect(self._run_invalid)
        self.runner.run_crashed.connect(self._run_crashed)
        self.log.itemClicked.connect(self._log_clicked)

    # -- title, status, log ---------------------------------------------------------
    def _update_title(self, *_: object) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] \u2014 Axon Studio")
        self.setWindowModified(self.document.dirty)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _log(self, text: str, node_id: str | None = None, level: str = "info") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        item = QListWidgetItem(f"{stamp}  {text}")
        if node_id:
            item.setData(Qt.ItemDataRole.UserRole, node_id)
        if level == "error":
            item.setForeground(Qt.GlobalColor.red)
        elif level == "warning":
            item.setForeground(Qt.GlobalColor.darkYellow)
        self.log.addItem(item)
        self.log.scrollToBottom()

    def _log_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id and node_id in self.scene.nodes:
            self.select_nodes([node_id])
            self.view.centerOn(self.scene.nodes[node_id])

    # -- editing ----------------------------------------------------------------------
    def add_node(self, type_id: str, position: QPointF) -> str | None:
        """Add a node centred on ``position`` through the undo stack; returns its id."""
        try:
            command = AddNodeCommand(self.document.workflow, type_id,
                                     (round(position.x() - 100), round(position.y() - 32)))
            self.document.undo_stack.push(command)
        except StudioError as error:
            self.show_status(str(error))
            return None
        assert command.node is not None
        self.select_nodes([command.node.id])
        self.show_status(f"Added {self.document.node_label(command.node.id)}")
        return command.node.id

    def select_nodes(self, node_ids: list[str]) -> None:
        self.scene.clearSelection()
        for node_id in node_ids:
            item = self.scene.nodes.get(node_id)
            if item is not None:
                item.setSelected(True)

    def select_all(self) -> None:
        for item in self.scene.items():
            if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                item.setSelected(True)

    def _selection_changed(self) -> None:
        selected = self.scene.selected_node_ids()
        self.inspector.show_node(selected[0] if len(selected) == 1 else None)

    def rename_selected(self) -> None:
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            self.docks["inspector"].show()
            self.inspector.title_edit.setFocus()
            self.inspector.title_edit.selectAll()

    def add_note(self) -> None:
        center = self.view.center_scene_pos()
        self.document.undo_stack.push(AddAnnotationCommand(
            self.document.workflow, "Double-click to edit this note.",
            (center.x() - 110, center.y() - 40, 220, 60)))

    def open_quick_add(self) -> None:
        self.open_quick_add_at(self.view.center_scene_pos())

    def open_quick_add_at(self, scene_pos: QPointF, accept=None) -> None:  # type: ignore[no-untyped-def]
        self._quick_add_pos = scene_pos
        if accept is None:
            self._pending_wire = None
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_add.open_at(global_pos, accept)

    def _wire_dropped(self, scene_pos: QPointF, node_id: str, port: str, is_output: bool) -> None:
        node_type = self.document.workflow.node_type(node_id)
        port_type = (node_type.outputs if is_output else node_type.inputs)[port].type
        self._pending_wire = (node_id, port, is_output)

        def accept(candidate: type[Node]) -> bool:
            if is_output:
                return any(p.type.accepts(port_type) for p in candidate.inputs.values())
            return any(port_type.accepts(p.type) for p in candidate.outputs.values())

        self.open_quick_add_at(scene_pos, accept)

    def _quick_add_chosen(self, type_id: str) -> None:
        pending = getattr(self, "_pending_wire", None)
        stack = self.document.undo_stack
        stack.beginMacro("Add and connect" if pending else "Add node")
        try:
            new_id = self.add_node(type_id, self._quick_add_pos)
            if pending and new_id:
                self._connect_pending(pending, new_id)
        finally:
            stack.endMacro()
            self._pending_wire = None

    def _connect_pending(self, pending: tuple[str, str, bool], new_id: str) -> None:
        node_id, port, is_output = pending
        workflow = self.document.workflow
        new_type = workflow.node_type(new_id)
        candidates = new_type.inputs if is_output else new_type.outputs
        for name in candidates:
            source, source_port, target, target_port = (
                (node_id, port, new_id, name) if is_output else (new_id, name, node_id, port))
            if workflow.connection_problem(source, source_port, target, target_port) is None:
                self.document.undo_stack.push(ConnectCommand(workflow, source, source_port,
                                                             target, target_port))
                return

    def _node_activated(self, node_id: str) -> None:
        self.visualize(node_id)

    # -- clipboard ----------------------------------------------------------------------
    def copy_selection(self) -> bool:
        selected = self.scene.selected_node_ids()
        if not selected:
            return False
        text = clipboard.selection_to_text(self.document.workflow, selected)
        data = QMimeData()
        data.setData(clipboard.MIME_TYPE, QByteArray(text.encode()))
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        self.show_status(f"Copied {len(selected)} node{'s' if len(selected) != 1 else ''}")
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            self.scene.delete_selection()

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data.hasFormat(clipboard.MIME_TYPE):
            text = bytes(data.data(clipboard.MIME_TYPE)).decode()
        else:
            text = data.text()
        try:
            nodes, edges = clipboard.nodes_from_text(self.document.workflow, text)
        except (ValueError, StudioError) as error:
            self.show_status(f"The clipboard holds no Axon Studio nodes ({error}).")
            return
        self.document.undo_stack.push(PasteCommand(self.document.workflow, nodes, edges))
        self.select_nodes([n.id for n in nodes])

    def duplicate(self) -> None:
        selected = self.scene.selected_node_ids()
        if not selected:
            return
        text = clipboard.selection_to_text(self.document.workflow, selected)
        nodes, edges = clipboard.nodes_from_text(self.document.workflow, text)
        self.document.undo_stack.push(PasteCommand(self.document.workflow, nodes, edges))
        self.select_nodes([n.id for n in nodes])

    # -- running ------------------------------------------------------------------------
    def run_all(self) -> None:
        self._start_run(None)

    def run_selected(self) -> None:
        selected = self.scene.selected_node_ids()
        if not selected:
            self.show_status("Select the nodes to run first.")
            return
        self._start_run(selected)

    def _start_run(self, targets: list[str] | None) -> None:
        if not self.document.workflow.nodes:
            self.show_status("Add some nodes first: drag them from the palette.")
            return
        code_nodes = self.document.untrusted_code_nodes()
        if code_nodes:
            names = ", ".join(f"'{self.document.node_label(n)}'" for n in code_nodes)
            answer = QMessageBox.question(
                self, "Run code from this file?",
                f"{names} run Python code stored in {self.document.display_name}. Run it only "
                "if you trust where the file came from (read the code in the inspector "
                "first). Trust this file?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.show_status("Not run: the file's code is not trusted.")
                return
            self.document.trusted = True
        if not self.runner.start(targets):
            self.show_status("A run is already in progress.")

    def edit_run_settings(self) -> None:
        from studio.gui.run_settings import RunSettingsDialog

        dialog = RunSettingsDialog(self.runner.settings, self)
        if dialog.exec():
            self.runner.settings = dialog.settings()
            self.show_status(f"Nodes will run in {self.runner.settings.describe()} "
                             "from the next run on.")

    def _run_started(self, run_id: str, node_ids: list) -> None:
        self._run_total, self._run_done = len(node_ids), 0
        self._run_live = {}
        self.progress.setRange(0, max(1, self._run_total))
        self.progress.setValue(0)
        self.progress.show()
        self.act_cancel.setEnabled(True)
        self.act_run.setEnabled(False)
        self.act_run_selected.setEnabled(False)
        self._log(f"Run {run_id} started ({len(node_ids)} nodes, "
                  f"{self.runner.settings.describe()})")

    def _node_state(self, node_id: str, state: NodeState, error: str | None) -> None:
        if self._run_live is not None:
            self._run_live[node_id] = state
        self.scene.set_node_state(node_id, state, error)
        if state in (NodeState.DONE, NodeState.CACHED, NodeState.FAILED, NodeState.SKIPPED):
            self._run_done += 1
            self.progress.setValue(self._run_done)
        if state == NodeState.QUEUED:
            return
        label = self.document.node_label(node_id) if node_id in self.document.workflow.nodes \
            else node_id
        if state == NodeState.FAILED:
            self._log(f"{label}: failed \u2014 {error}", node_id, "error")
        elif state == NodeState.SKIPPED:
            self._log(f"{label}: skipped ({error})", node_id, "warning")
        else:
            self._log(f"{label}: {state.value}", node_id)

    def _run_finished(self, record: RunRecord) -> None:
        counts = ", ".join(f"{n} {s}" for s, n in record.counts().items())
        level = "info" if record.status == "succeeded" else "error"
        self._log(f"Run {record.run_id} {record.status} in {record.duration_s:.2f} s "
                  f"({counts})", level=level)
        self.show_status(f"Run {record.status}: {counts}")
        self._run_ended()

    def _run_crashed(self, text: str) -> None:
        self._log(f"Run stopped: {text}", level="error")
        if self._run_live is not None:  # it had started: nothing else will end it
            self._run_ended()

    def _run_ended(self) -> None:
        self._run_live = None
        self.progress.hide()
        self.act_cancel.setEnabled(False)
        self.act_run.setEnabled(True)
        self.act_run_selected.setEnabled(True)
        self.refresh_states()

    def _run_invalid(self, problems: list) -> None:
        self._log(f"The workflow cannot run yet ({len(problems)} problem"
                  f"{'s' if len(problems) != 1 else ''}):", level="error")
        for problem in problems:
            self._log(f"  {problem}", problem.node, "error")
        self.show_status(str(problems[0]) if problems else "")

    def refresh_states(self) -> None:
        """Badges for the workflow as it is now: outdated where it changed since its run."""
        engine = self.document.engine
        fingerprint = environment()["fingerprint"]
        states = engine.states(self.document.workflow)
        live = self._run_live or {}
        for node_id, state in states.items():
            if live.get(node_id) in (NodeState.QUEUED, NodeState.RUNNING):
                continue  # running now: its badge follows the run
            last = engine.last.get(node_id)
            foreign = None
            if last is not None and last.origin is not None \
                    and last.origin.environment != fingerprint and state != NodeState.OUTDATED:
                foreign = (f"Result computed elsewhere: host {last.origin.host}, run "
                           f"{last.origin.run_id}, {last.origin.finished} (another environment)")
            error = last.error if last is not None else None
            self.scene.set_node_state(node_id, state, error, foreign)

    def _on_model_event(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.kind in ("node_added", "edge_added", "edge_removed", "param_changed"):
            self._states_timer.start(0)

    def publish(self) -> None:
        from studio.gui.publish import PublishDialog

        def open_scoring(workflow) -> None:  # type: ignore[no-untyped-def]
            window = MainWindow(Document(workflow))
            window.show()

        self.publish_dialog = PublishDialog(self.document, open_scoring, self)
        self.publish_dialog.show()

    # -- viewers ------------------------------------------------------------------------
    def visualize_selected(self) -> None:
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            self.visualize(selected[0])

    def visualize(self, node_id: str) -> None:
        node_type = self.document.workflow.node_type(node_id)
        if node_type.outputs:
            self.open_viewer(node_id, next(iter(node_type.outputs)))

    def open_viewer(self, node_id: str, port: str) -> QWidget | None:
        label = self.document.node_label(node_id)
        try:
            outputs = self.document.engine.outputs(self.document.workflow, node_id)
        except StudioError as error:
            outputs = None
            self.show_status(str(error))
        if outputs is None or port not in outputs:
            self.show_status(f"'{label}' has no up-to-date output yet: run the workflow (F5).")
            return None
        widget = viewer_for(outputs[port])
        title = f"{label}: {port}"
        for index in range(1, self.outputs.count()):
            if self.outputs.tabText(index) == title:
                self.outputs.removeTab(index)
                break
        index = self.outputs.addTab(widget, title)
        self.outputs.setCurrentIndex(index)
        self.docks["outputs"].show()
        return widget

    def _close_output_tab(self, index: int) -> None:
        if index > 0:
            widget = self.outputs.widget(index)
            self.outputs.removeTab(index)
            widget.deleteLater()

    def contextMenuEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        position = self.view.mapToScene(self.view.mapFromGlobal(event.globalPos()))
        item = next((i for i in self.scene.items(position) if isinstance(i, NodeItem)), None)
        if item is None:
            return super().contextMenuEvent(event)
        self.select_nodes([item.node_id])
        menu = QMenu(self)
        for port in item.node_type.outputs.values():
            menu.addAction(f"Visualize '{port.label}'",
                           lambda p=port.name: self.open_viewer(item.node_id, p))
        menu.addAction("Run to Here", lambda: self._start_run([item.node_id]))
        menu.addSeparator()
        menu.addAction(self.act_rename)
        menu.addAction(self.act_duplicate)
        menu.addAction(self.act_delete)
        menu.exec(event.globalPos())

    # -- files -----------------------------------------------------------------------------
    def new_window(self) -> MainWindow:
        window = MainWindow()
        window.show()
        return window

    def open_dialog(self) -> None:
        start = str(self.document.path.parent) if self.document.path else str(EXAMPLES_DIR)
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow", start, FILE_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> MainWindow | None:
        """Open a file: here if this window is empty and clean, else in a new window."""
        try:
            document = Document.open(path)
        except StudioError as error:
            QMessageBox.warning(self, "Cannot open workflow", str(error))
            return None
        self._remember_recent(path)
        if not self.document.workflow.nodes and not self.document.dirty:
            window = MainWindow(document)
            window.setGeometry(self.geometry())
            window.show()
            self.close()
            return window
        window = MainWindow(document)
        window.show()
        return window

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path or Path.home() / f"untitled{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save workflow", start, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path = path.removesuffix(".json") + SUFFIX
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        previous = self.document.path
        try:
            self.document.save(path)
        except OSError as error:
            QMessageBox.warning(self, "Cannot save", f"Saving to {path} failed: {error}")
            return False
        recovery.remove_recovery(previous, self.recovery_token)
        recovery.remove_recovery(path, self.recovery_token)
        self._remember_recent(path)
        self.show_status(f"Saved {path}")
        return True

    def autosave(self) -> Path | None:
        """Write unsaved changes to the recovery folder (every minute while dirty)."""
        if not self.document.dirty or self._autosaved_revision == self.document.workflow.revision:
            return None
        try:
            target = recovery.write_recovery(self.document.workflow, self.document.path,
                                             self.recovery_token, datetime.now().isoformat())
        except OSError as error:
            self.show_status(f"Autosave failed: {error}")
            return None
        self._autosaved_revision = self.document.workflow.revision
        return target

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.document.dirty:
            answer = QMessageBox.question(
                self, "Unsaved changes",
                f"Save the changes to {self.document.display_name} before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel or (
                    answer == QMessageBox.StandardButton.Save and not self.save()):
                event.ignore()
                return
        self.autosave_timer.stop()
        recovery.remove_recovery(self.document.path, self.recovery_token)
        self.runner.close()
        self.document.close()
        if self in _WINDOWS:
            _WINDOWS.remove(self)
        event.accept()

    # -- recent files ---------------------------------------------------------------------
    def _remember_recent(self, path: Path) -> None:
        settings = QSettings("Axon Studio", "Axon Studio")
        recent = [p for p in (settings.value("recent", []) or []) if p != str(path)]
        settings.setValue("recent", [str(path), *recent][:MAX_RECENT])
        for window in list(_WINDOWS):
            window._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        settings = QSettings("Axon Studio", "Axon Studio")
        recent = [p for p in (settings.value("recent", []) or []) if Path(p).exists()]
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))
        self.recent_menu.setEnabled(bool(recent))


def restore_recoveries(parent: QWidget | None = None) -> list[MainWindow]:
    """Offer every document left unsaved by a crash; returns the windows restored."""
    restored = []
    for item in recovery.pending_recoveries():
        answer = QMessageBox.question(
            parent, "Recover unsaved work",
            f"Axon Studio stopped with unsaved changes to {item.label} "
            f"(autosaved {item.saved_at}). Restore them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            recovery.discard(item)
            continue
        try:
            document = Document.open(item.path)
        except WorkflowFileError as error:
            QMessageBox.warning(parent, "Cannot recover", str(error))
            recovery.discard(item)
            continue
        document.path = item.original
        # The restored content differs from the file on disk: mark it unsaved.
        document.undo_stack.resetClean()
        window = MainWindow(document)
        window.show()
        restored.append(window)
        recovery.discard(item)
    return restored
