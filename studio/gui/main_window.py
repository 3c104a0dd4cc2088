"""The main window: palette, canvas with its output tabs, inspector and run log.

Layout: the canvas takes the middle, with the outputs the user opens in
tabs beside it (each can move into a window of its own); the palette, the
inspector and the run log are docks around them. Docks, splitter and window
geometry are remembered across restarts. A window opened on nothing shows
the start page in the middle instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QPointF, QRectF, QSizeF, Qt, QTimer
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
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from nodes.errors import StudioError
from nodes.node import Node
from studio.engine import check_workflow
from studio.engine.record import RunRecord, environment
from studio.engine.states import NodeState
from studio.gui import clipboard, help_dialogs, recovery, settings, warmup
from studio.gui.canvas.items import NODE_HEIGHT, NODE_WIDTH, NodeItem
from studio.gui.canvas.scene import WorkflowScene
from studio.gui.canvas.view import WorkflowView
from studio.gui.commands import (
    AddAnnotationCommand,
    AddNodeCommand,
    ConnectCommand,
    PasteCommand,
)
from studio.gui.data_use import DataUse, DataUseDialog, refusal_text, terms_refusals
from studio.gui.describe_dialog import DescribeDialog, file_columns, source_file
from studio.gui.document import Document
from studio.gui.gc_guard import GuiThreadCollector
from studio.gui.icons import action_icon
from studio.gui.inspector import Inspector
from studio.gui.lineage import LineagePanel
from studio.gui.palette import NodePalette, QuickAdd
from studio.gui.run_controller import RunController
from studio.gui.runs_panel import RunsPanel
from studio.gui.start_page import StartPage
from studio.gui.viewer_area import ViewerArea, ViewerPage, ViewerWindow
from studio.gui.viewers import viewer_for
from studio.runs import StoredRun
from studio.workflow import SUFFIX, Workflow, WorkflowFileError

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
FILE_FILTER = f"Axon Studio workflows (*{SUFFIX});;All files (*)"
AUTOSAVE_INTERVAL_MS = 60_000
#: Bumped when the docks change so much that an old saved layout would not fit.
LAYOUT_VERSION = 2

_WINDOWS: list[MainWindow] = []  # keeps top-level windows alive


def _problem_text(problem: Any) -> str:
    """A problem as the user reads it: what is wrong and the fix, without ids."""
    text = str(getattr(problem, "message", problem))
    fix = getattr(problem, "fix", None)
    return f"{text.rstrip('.')}. {fix}" if fix else text


class MainWindow(QMainWindow):
    """One window per open workflow."""

    def __init__(self, document: Document | None = None, *, start_page: bool = False) -> None:
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
        #: The last finished run: its end states stand while the nodes are unchanged.
        self._last_record: RunRecord | None = None
        self._trust_asked = False
        self.viewer_pages: list[ViewerPage] = []
        self._fit_to_screen()

        self.scene = WorkflowScene(self.document)
        self.view = WorkflowView(self.scene)
        self.viewer_area = ViewerArea()
        self.viewer_area.hide()
        self.viewer_area.has_pages.connect(self._viewer_area_shown)
        self.workspace = QSplitter(Qt.Orientation.Horizontal)
        self.workspace.setObjectName("workspace")
        self.workspace.setChildrenCollapsible(False)
        self.view.setMinimumWidth(260)
        self.workspace.addWidget(self.view)
        self.workspace.addWidget(self.viewer_area)
        self.workspace.setStretchFactor(0, 1)
        self.workspace.setStretchFactor(1, 1)
        self.center = QStackedWidget()
        self.start_page: StartPage | None = None
        self.center.addWidget(self.workspace)
        self.setCentralWidget(self.center)
        self.palette_panel = NodePalette(self.document.workflow.registry)
        self.inspector = Inspector()
        self.inspector.set_document(self.document)
        self.quick_add = QuickAdd(self.document.workflow.registry, self)
        self.runner = RunController(self.document, self)
        self.lineage_panel = LineagePanel(self.document)
        self.runs_panel = RunsPanel(self.document)
        self.data_use = DataUse(self.document, self)
        self.progress = QProgressBar()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._connect()
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._states_timer = QTimer(self)
        self._states_timer.setSingleShot(True)
        self._states_timer.timeout.connect(self.refresh_states)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(AUTOSAVE_INTERVAL_MS)
        self._restore_layout()
        if start_page and not self.document.workflow.nodes:
            self.show_start_page()
        self._update_title()
        self.refresh_states()
        QTimer.singleShot(0, self.view.fit_all)
        QTimer.singleShot(200, warmup.start)

    # -- construction ---------------------------------------------------------------
    def _fit_to_screen(self) -> None:
        """A first window fills most of the screen (later ones restore the last size)."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1400, 860)
            return
        available = screen.availableGeometry()
        self.resize(min(1600, int(available.width() * 0.94)),
                    min(1000, int(available.height() * 0.92)))

    def _build_docks(self) -> None:
        left = QDockWidget("Nodes", self)
        left.setObjectName("palette")
        left.setWidget(self.palette_panel)
        left.setMinimumWidth(170)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, left)
        right = QDockWidget("Inspector", self)
        right.setObjectName("inspector")
        right.setWidget(self.inspector)
        right.setMinimumWidth(220)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, right)
        self.log = QListWidget()
        self.log.setToolTip("Run log: click an entry to select its node")
        self.log.setWordWrap(True)
        bottom = QDockWidget("Run Log", self)
        bottom.setObjectName("run_log")
        bottom.setWidget(self.log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, bottom)
        lineage = QDockWidget("Lineage", self)
        lineage.setObjectName("lineage")
        lineage.setWidget(self.lineage_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, lineage)
        self.tabifyDockWidget(right, lineage)  # a tab beside the inspector's, once shown
        lineage.hide()
        right.raise_()
        runs = QDockWidget("Runs", self)
        runs.setObjectName("runs")
        runs.setWidget(self.runs_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, runs)
        runs.hide()  # hidden first: tabified while shown, it leaves a stray tab bar
        self.tabifyDockWidget(bottom, runs)  # wide, under the canvas: a tab by the run log
        self.resizeDocks([bottom], [110], Qt.Orientation.Vertical)
        self.resizeDocks([left, right], [220, 290], Qt.Orientation.Horizontal)
        self.docks = {"palette": left, "inspector": right, "run_log": bottom,
                      "lineage": lineage, "runs": runs}
        # The side docks run the full height; the run log sits under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m nodes")
        self.progress.hide()

    def _action(self, text: str, slot, shortcut=None, tip: str = "",  # type: ignore[no-untyped-def]
                icon: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        label = text.replace("&", "").replace("\u2026", "")
        shortcut_text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or label}" + (f" ({shortcut_text})" if shortcut_text else ""))
        action.setStatusTip(tip or label)
        if icon:
            action.setIcon(action_icon(icon, self.palette().windowText().color()))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey  # noqa: N806
        self.act_new = self._action("&New Window", self.new_window, K.New,
                                    "A new window with a blank workflow", "new")
        self.act_open = self._action("&Open\u2026", self.open_dialog, K.Open,
                                     "Open a workflow file", "open")
        self.act_save = self._action("&Save", self.save, K.Save, "Save the workflow", "save")
        self.act_save_as = self._action("Save &As\u2026", self.save_as, K.SaveAs)
        self.act_close = self._action("&Close", self.close, K.Close)
        self.act_undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(K.Undo)
        self.act_undo.setIcon(action_icon("undo", self.palette().windowText().color()))
        self.act_redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(K.Redo)
        self.act_redo.setIcon(action_icon("redo", self.palette().windowText().color()))
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
                                     "Add a free-text note to the canvas", "note")
        self.act_quick_add = self._action("&Quick Add Node\u2026", self.open_quick_add, "Ctrl+K",
                                          "Search and add a node (also Tab, / or right-click)",
                                          "quick_add")
        self.act_fit = self._action("&Fit to Window", self.view.fit_all, "Ctrl+0",
                                    "Show the whole workflow", "fit")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.view.zoom_by(1.2), K.ZoomIn)
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.view.zoom_by(1 / 1.2),
                                         K.ZoomOut)
        self.act_start_page = self._action("&Start Page", self.show_start_page, None,
                                           "Examples, recent files and a blank workflow")
        self.act_run = self._action("&Run All", self.run_all, "F5",
                                    "Run the workflow (unchanged nodes come from the cache)",
                                    "run")
        self.act_run_selected = self._action("Run &Selected", self.run_selected, "Shift+F5",
                                             "Run the selected nodes and what they need",
                                             "run_selected")
        self.act_cancel = self._action("&Cancel Run", self.runner.cancel, "Ctrl+.",
                                       "Stop the run between nodes or inside long nodes",
                                       "cancel")
        self.act_cancel.setEnabled(False)
        self.act_visualize = self._action("&Visualize Output", self.visualize_selected, "Ctrl+E",
                                          "Open the first output of the selected node",
                                          "visualize")
        self.act_run_settings = self._action("Run Se&ttings\u2026", self.edit_run_settings, None,
                                             "Where nodes run: this process or a Dask cluster")
        self.act_data_use = self._action("Data &Use\u2026", self.edit_data_use, None,
                                         "The run's purpose, region and licensee, checked "
                                         "against the data's terms; an override")
        self.act_lineage = self._action("Data &Lineage", self.show_lineage, "Ctrl+Shift+L",
                                        "The datasets, owners, terms, digest and statement "
                                        "behind the selected model")
        self.act_runs = self._action("Run &History", self.show_runs, "Ctrl+Shift+H",
                                     "This workflow's runs: compare two, open one's "
                                     "parameters as a new workflow")
        self.act_describe_data = self._action("Describe Data &Owners\u2026",
                                              lambda: self.describe_data(), None,
                                              "Attach owners and terms to the file the "
                                              "selected Import Data node reads")
        self.act_publish = self._action("&Publish as Web Service\u2026", self.publish,
                                        "Ctrl+Shift+P",
                                        "Turn the trained workflow into a scoring service",
                                        "publish")
        self.act_shortcuts = self._action("&Keyboard Shortcuts", self.show_shortcuts,
                                          K.HelpContents)
        self.act_about = self._action("&About Axon Studio", lambda: help_dialogs.show_about(self))

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
            action.setStatusTip("Open an untitled copy of this example")
            action.triggered.connect(lambda _=False, p=path: self.open_example(p))
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
        view_menu.addSeparator()
        view_menu.addAction(self.act_start_page)
        run_menu = bar.addMenu("&Run")
        for action in (self.act_run, self.act_run_selected, self.act_cancel, None,
                       self.act_run_settings, self.act_data_use, None, self.act_runs,
                       self.act_lineage, self.act_describe_data, None, self.act_visualize,
                       self.act_publish):
            run_menu.addSeparator() if action is None else run_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_shortcuts)
        docs = help_menu.addMenu("&Documentation")
        for title, page in help_dialogs.DOCUMENTS:
            action = docs.addAction(title)
            action.setToolTip(page)
            action.triggered.connect(
                lambda _=False, p=page: help_dialogs.open_documentation(self, p))
        help_menu.addAction(self.act_start_page)
        help_menu.addSeparator()
        help_menu.addAction(self.act_about)
        self.help_menu = help_menu
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in (self.act_new, self.act_open, self.act_save, None, self.act_undo,
                       self.act_redo, None, self.act_run, self.act_run_selected, self.act_cancel,
                       None, self.act_fit, self.act_quick_add, self.act_note, None,
                       self.act_visualize, self.act_publish):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        for action in (self.act_run, self.act_publish):  # the two a newcomer looks for
            toolbar.widgetForAction(action).setToolButtonStyle(  # type: ignore[union-attr]
                Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar = toolbar
        self.addToolBar(toolbar)
        self._refresh_recent_menu()

    def _connect(self) -> None:
        self.palette_panel.node_requested.connect(self.add_node_after_selection)
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
        self.runner.run_ended.connect(self._run_ended)
        self.runner.run_note.connect(lambda text, level: self._log(text, level=level))
        self.runner.run_ended.connect(self.runs_panel.refresh)
        self.document.path_changed.connect(self.runs_panel.refresh)
        self.runs_panel.open_requested.connect(self.open_run)
        self.log.itemClicked.connect(self._log_clicked)
        self.lineage_panel.describe_requested.connect(self.describe_data)
        self.data_use.refusal_kept.connect(lambda run_id: self._log(
            f"The refused run {run_id} is kept in the run history (the owners' statements "
            "list it)."))
        self.data_use.refusal_not_kept.connect(lambda text: self._log(
            f"The refused run could not be kept in the run history: {text}", level="error"))

    # -- layout that outlives the window ---------------------------------------------
    def _restore_layout(self) -> None:
        stored = settings.app_settings()
        if stored.value("layout/version") != str(LAYOUT_VERSION):
            return
        geometry, state = stored.value("layout/geometry"), stored.value("layout/state")
        splitter = stored.value("layout/workspace")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, LAYOUT_VERSION)
        if isinstance(splitter, QByteArray):
            self._workspace_state = splitter

    def save_layout(self) -> None:
        stored = settings.app_settings()
        stored.setValue("layout/version", str(LAYOUT_VERSION))
        stored.setValue("layout/geometry", self.saveGeometry())
        stored.setValue("layout/state", self.saveState(LAYOUT_VERSION))
        if self.viewer_area.isVisible():
            stored.setValue("layout/workspace", self.workspace.saveState())
        stored.sync()

    def _viewer_area_shown(self, shown: bool) -> None:
        self.viewer_area.setVisible(shown)
        if shown:
            saved = getattr(self, "_workspace_state", None)
            if saved is None or not self.workspace.restoreState(saved):
                width = max(self.workspace.width(), 600)
                self.workspace.setSizes([int(width * 0.38), int(width * 0.62)])
            QTimer.singleShot(0, self.view.fit_all)  # the canvas got narrower: show it all
        else:
            self._workspace_state = self.workspace.saveState()

    # -- start page -------------------------------------------------------------------
    def show_start_page(self) -> None:
        """The start page in this window (if it holds nothing), else in a new one."""
        if self.document.workflow.nodes or self.document.dirty:
            window = MainWindow(start_page=True)
            window.show()
            return
        if self.start_page is None:
            self.start_page = StartPage(EXAMPLES_DIR, self.document.workflow.registry,
                                        settings.recent_files())
            self.start_page.new_requested.connect(self.show_workspace)
            self.start_page.open_requested.connect(self.open_dialog)
            self.start_page.file_chosen.connect(self.open_path)
            self.start_page.example_chosen.connect(self.open_example)
            self.center.addWidget(self.start_page)
        self.center.setCurrentWidget(self.start_page)

    def show_workspace(self) -> None:
        self.center.setCurrentWidget(self.workspace)
        self.view.setFocus()

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

    def log_texts(self) -> list[str]:
        return [self.log.item(i).text() for i in range(self.log.count())]

    def _log_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id and node_id in self.scene.nodes:
            self.select_nodes([node_id])
            self.view.centerOn(self.scene.nodes[node_id])

    # -- editing ----------------------------------------------------------------------
    def add_node(self, type_id: str, position: QPointF) -> str | None:
        """Add a node centred on ``position`` through the undo stack; returns its id."""
        self.show_workspace()
        try:
            command = AddNodeCommand(self.document.workflow, type_id,
                                     (round(position.x() - NODE_WIDTH / 2),
                                      round(position.y() - NODE_HEIGHT / 2)))
            self.document.undo_stack.push(command)
        except StudioError as error:
            self.show_status(str(error))
            return None
        assert command.node is not None
        self.select_nodes([command.node.id])
        self.show_status(f"Added {self.document.node_label(command.node.id)}")
        return command.node.id

    def add_node_after_selection(self, type_id: str) -> str | None:
        """Add a node from the palette (double-click, Enter) or quick add: with one
        node selected, below it and wired from it (as KNIME's node repository does);
        else at the centre of the view. Undo takes the wire away first, then the node."""
        selected = self.scene.selected_node_ids()
        if len(selected) != 1:
            return self.add_node(type_id, self.view.center_scene_pos())
        anchor = self.scene.nodes[selected[0]]
        if self.document.workflow.registry.get(type_id).inputs:  # it follows: below
            position = self._free_spot(anchor.pos() + QPointF(0, NODE_HEIGHT + 60),
                                       QPointF(NODE_WIDTH + 30, 0))
        else:  # a source (a learner, a dataset): beside, on the left
            position = self._free_spot(anchor.pos() - QPointF(NODE_WIDTH + 40, 0),
                                       QPointF(-(NODE_WIDTH + 30), 0))
        new_id = self.add_node(type_id, position + QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2))
        if new_id is not None:
            self._wire_from(selected[0], new_id)
            self.view.ensureVisible(self.scene.nodes[new_id], 40, 40)
        return new_id

    def _free_spot(self, top_left: QPointF, step: QPointF) -> QPointF:
        """The first place from ``top_left`` on, by ``step``, where a card overlaps no
        other card."""
        spot = QPointF(top_left)
        for _ in range(20):
            rect = QRectF(spot, QSizeF(NODE_WIDTH, NODE_HEIGHT)).adjusted(-10, -10, 10, 10)
            if not any(rect.intersects(item.sceneBoundingRect())
                       for item in self.scene.nodes.values()):
                return spot
            spot += step
        return spot

    def _wire_from(self, source: str, target: str) -> bool:
        """Wire the first input of ``target`` that an output of ``source`` can feed."""
        workflow = self.document.workflow
        for input_name in workflow.node_type(target).inputs:
            for output_name in workflow.node_type(source).outputs:
                if workflow.connection_problem(source, output_name, target,
                                               input_name) is None:
                    self.document.undo_stack.push(ConnectCommand(
                        workflow, source, output_name, target, input_name))
                    out = workflow.node_type(source).outputs[output_name].label
                    into = workflow.node_type(target).inputs[input_name].label
                    self.show_status(f"Added {workflow.label(target)}, wired from "
                                     f"{workflow.label(source)} \u00b7 {out} to its {into} "
                                     "(Ctrl+Z takes the wire away)")
                    return True
        return False

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
        self.lineage_panel.show_node(selected[0] if len(selected) == 1 else None)

    def rename_selected(self) -> None:
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            self.docks["inspector"].show()
            self.inspector.title_edit.setFocus()
            self.inspector.title_edit.selectAll()

    def add_note(self) -> None:
        self.show_workspace()
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
        selected = self.scene.selected_node_ids()
        stack.beginMacro("Add and connect" if pending else "Add node")
        try:
            new_id = self.add_node(type_id, self._quick_add_pos)
            if pending and new_id:
                self._connect_pending(pending, new_id)
            elif new_id and len(selected) == 1:  # a node was selected: carry on from it
                self._wire_from(selected[0], new_id)
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
        self.show_workspace()
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
        if self.runner.busy:
            self.show_status("A run is already in progress.")
            return
        if not self._ask_trust(self.document.untrusted_code_nodes()):
            return
        self._pending_targets = targets
        with self.data_use.applied():  # an override holds for the run it starts only
            self.runner.start(targets)

    def _ask_trust(self, code_nodes: list[str]) -> bool:
        """The user's explicit trust step for code stored in the file; False: not run."""
        if not code_nodes:
            return True
        names = ", ".join(f"'{self.document.node_label(n)}'" for n in code_nodes)
        answer = QMessageBox.question(
            self, "Run code from this file?",
            f"{names} run Python code stored in {self.document.display_name}. Run it only "
            "if you trust where the file came from (read the code in the inspector "
            "first). Trust this code?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            self.show_status("Not run: the file's code is not trusted.")
            return False
        self.document.trust(code_nodes)
        return True

    def edit_run_settings(self) -> None:
        from studio.gui.run_settings import RunSettingsDialog

        dialog = RunSettingsDialog(self.runner.settings, self)
        if dialog.exec():
            self.runner.settings = dialog.settings()
            self.show_status(f"Nodes will run in {self.runner.settings.describe()} "
                             "from the next run on.")

    def edit_data_use(self) -> DataUseDialog:
        dialog = DataUseDialog(self.document, self.data_use.override, self)
        dialog.accepted.connect(lambda: self.show_status(self.data_use.declare(
            dialog.values(), dialog.override(), self.refresh_states)))
        dialog.open()
        self.data_use_dialog = dialog
        return dialog

    def show_lineage(self) -> LineagePanel:
        self.docks["lineage"].show()
        self.docks["lineage"].raise_()
        return self.lineage_panel

    def show_runs(self) -> RunsPanel:
        self.docks["runs"].show()
        self.docks["runs"].raise_()
        self.resizeDocks([self.docks["runs"]], [260], Qt.Orientation.Vertical)
        return self.runs_panel

    def open_run(self, workflow: Workflow, run: StoredRun) -> MainWindow:
        """A stored run's workflow in a new untitled window (its code needs trust again)."""
        document = Document(workflow)
        document.trusted = False  # trust is never stored with a run
        window = self._show_document(document)
        window.show_status(f"The workflow of run {run.run_id} ({run.started[:19]}), as an "
                           "untitled copy: Save asks where to keep it.")
        return window

    def describe_data(self, node_id: str | None = None) -> QWidget | None:
        """Describe Data Owners… for ``node_id`` (default: the selected node)."""
        selected = self.scene.selected_node_ids()
        node_id = node_id or (selected[0] if len(selected) == 1 else None)
        path = source_file(self.document.workflow, node_id) if node_id else None
        if path is None or not path.is_file():
            self.show_status("Select an Import Data node (CSV or Parquet) whose file exists: "
                             "its owners and terms are written beside that file.")
            return None
        dialog = DescribeDialog(path, file_columns(path), self)
        dialog.described.connect(lambda _sidecar: (
            self._log(f"Owners and terms of {path.name} saved beside it."),
            self.refresh_states(), self.lineage_panel.refresh()))
        dialog.open()
        self.describe_dialog = dialog
        return dialog

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
        override = self.data_use.run_started()
        if override:
            self._log(f"The data's terms are overridden for this run: {override}",
                      level="warning")

    def _node_state(self, node_id: str, state: NodeState, error: str | None,
                    warnings: list[str] | None = None) -> None:
        if self._run_live is not None:
            self._run_live[node_id] = state
        self.scene.set_node_state(node_id, state, error, None, warnings or [])
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
        elif warnings:
            count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
            self._log(f"{label}: {state.value}, with {count} \u2014 " + "; ".join(warnings),
                      node_id, "warning")
        else:
            self._log(f"{label}: {state.value}", node_id)

    def _run_finished(self, record: RunRecord) -> None:
        self._last_record = record
        self.lineage_panel.add_record(record)
        counts = ", ".join(f"{n} {s}" for s, n in record.counts().items())
        level = "info" if record.status == "succeeded" else "error"
        self._log(f"Run {record.run_id} {record.status} in {record.duration_s:.2f} s "
                  f"({counts})", level=level)
        self.show_status(f"Run {record.status}: {counts}")

    def _run_crashed(self, text: str) -> None:
        self._log(f"Run stopped: {text}", level="error")

    def _run_ended(self) -> None:
        self._run_live = None
        self.progress.hide()
        self.act_cancel.setEnabled(False)
        self.act_run.setEnabled(True)
        self.act_run_selected.setEnabled(True)
        self.refresh_states()

    def _run_invalid(self, problems: list) -> None:
        trust = [p.node for p in problems if self._is_trust_problem(p)]
        if trust and not self._trust_asked:  # the engine wants the trust step first
            self._trust_asked = True
            try:
                if self._ask_trust(list(dict.fromkeys(trust))):
                    QTimer.singleShot(0, lambda: self._start_run(
                        getattr(self, "_pending_targets", None)))
                    return
            finally:
                self._trust_asked = False
        refused = terms_refusals(problems)
        if refused:  # the data's terms: kept in the run history, said with the fix
            self.data_use.keep_refusal(refused)
            self._log("The run is refused by the terms of its data; no node ran:",
                      level="error")
            for problem in refused:
                self._log(f"  {refusal_text(problem)}", problem.node, "error")
            self.show_status(f"Refused: {refusal_text(refused[0])}")
            self.select_nodes([refused[0].node])
            problems = [p for p in problems if p not in refused]
            if not problems:
                return
        named = list(dict.fromkeys(self.document.node_label(p.node) for p in problems
                                   if p.node and p.node in self.document.workflow.nodes))
        self._log(f"The workflow cannot run yet ({len(problems)} problem"
                  f"{'s' if len(problems) != 1 else ''}"
                  + (f" in {', '.join(repr(n) for n in named)}" if named else "") + "):",
                  level="error")
        for problem in problems:
            where = (self.document.node_label(problem.node)
                     if problem.node and problem.node in self.document.workflow.nodes else "")
            self._log(f"  {where + ': ' if where else ''}{_problem_text(problem)}",
                      problem.node, "error")
        if named:
            self.show_status(f"Cannot run yet: {', '.join(repr(n) for n in named)} "
                             f"{'is' if len(named) == 1 else 'are'} not ready "
                             "(hover over the warning badges).")
            self.select_nodes([p.node for p in problems if p.node][:1])
        else:
            self.show_status(_problem_text(problems[0]) if problems else "")

    def _is_trust_problem(self, problem: Any) -> bool:
        node = getattr(problem, "node", None)
        if node is None or node not in self.document.workflow.nodes:
            return False
        return (self.document.workflow.node_type(node).needs_trust
                and "trust" in str(getattr(problem, "message", "")).lower())

    def refresh_states(self) -> None:
        """Badges for the workflow as it is now: outdated where it changed since its run,
        the last run's word where nothing changed, and what keeps a node from running."""
        engine, workflow = self.document.engine, self.document.workflow
        fingerprint = environment()["fingerprint"]
        states = engine.states(workflow)
        try:
            keys = engine.keys(workflow)
        except Exception:  # a cycle or an unknown type: no keys, states say not run
            keys = {}
        record = self._last_record
        live = self._run_live or {}
        for node_id, state in states.items():
            if live.get(node_id) in (NodeState.QUEUED, NodeState.RUNNING):
                continue  # running now: its badge follows the run
            last = engine.last.get(node_id)
            ran = record.nodes.get(node_id) if record is not None else None
            same = ran is not None and ran.cache_key is not None \
                and ran.cache_key == keys.get(node_id)
            error = last.error if last is not None else None
            warnings: list[str] = []
            if same and ran.state in ("skipped", "cancelled", "not run") \
                    and state in (NodeState.OUTDATED, NodeState.NOT_RUN):
                state, error = NodeState(ran.state), ran.error  # what the log said
            if same and state in (NodeState.DONE, NodeState.CACHED):
                warnings = list(getattr(ran, "warnings", None) or [])
            elif state in (NodeState.DONE, NodeState.CACHED):
                warnings = list(getattr(last, "warnings", None) or [])
            foreign = None
            if last is not None and last.origin is not None \
                    and last.origin.environment != fingerprint and state != NodeState.OUTDATED:
                foreign = (f"Result computed elsewhere: host {last.origin.host}, run "
                           f"{last.origin.run_id}, {last.origin.finished} (another environment)")
            self.scene.set_node_state(node_id, state, error, foreign, warnings)
        self._refresh_problems()
        self._refresh_viewer_pages(keys)

    def _refresh_problems(self) -> None:
        """Warning badges: what keeps each node from running, before any run."""
        workflow = self.document.workflow
        try:
            problems = check_workflow(workflow)
        except Exception:  # e.g. an unknown node type: the run will say it in full
            problems = []
        by_node: dict[str, list[str]] = {}
        for problem in problems:
            if problem.node:
                by_node.setdefault(problem.node, []).append(_problem_text(problem))
        self.scene.set_problems(by_node)

    def _on_model_event(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.kind in ("node_added", "node_removed", "edge_added", "edge_removed",
                          "param_changed"):
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

    def _current_output(self, node_id: str, port: str) -> tuple[Any, str | None] | None:
        workflow = self.document.workflow
        try:
            outputs = self.document.engine.outputs(workflow, node_id)
            key = self.document.engine.keys(workflow, [node_id])[node_id]
        except StudioError as error:
            self.show_status(str(error))
            return None
        if outputs is None or port not in outputs:
            return None
        return outputs[port], key

    def _make_viewer(self, node_id: str, value: Any) -> QWidget:
        widget = viewer_for(value)
        set_names = getattr(widget, "set_input_names", None)
        if set_names is not None:
            set_names(self.compared_names(node_id))
        threshold = self.document.workflow.node(node_id).params.get("threshold")
        set_threshold = getattr(widget, "set_node_threshold", None)
        if set_threshold is not None and isinstance(threshold, (int, float)):
            set_threshold(float(threshold))
        return widget

    def compared_names(self, node_id: str) -> list[str]:
        """What to call each input of a node in a legend: the model behind it (the
        nearest upstream node that makes a Learner), else the node that feeds it."""
        workflow = self.document.workflow
        node_type = workflow.node_type(node_id)
        names = []
        for port in node_type.inputs:
            for edge in [e for e in workflow.incoming(node_id) if e.target_port == port]:
                names.append(self._model_behind(edge.source))
        return names

    def _model_behind(self, node_id: str) -> str:
        workflow, seen, queue = self.document.workflow, set(), [node_id]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if any(p.type.name == "Learner" for p in workflow.node_type(current).outputs.values()):
                return workflow.label(current)
            queue += [e.source for e in workflow.incoming(current)]
        return workflow.label(node_id)

    def open_viewer(self, node_id: str, port: str) -> QWidget | None:
        """Show a node's output in a tab beside the canvas (or refresh the one open)."""
        label = self.document.node_label(node_id)
        port_label = self.document.workflow.node_type(node_id).outputs[port].label or port
        found = self._current_output(node_id, port)
        if found is None:
            self.show_status(f"'{label}' has no up-to-date output yet: run the workflow (F5).")
            return None
        value, key = found
        widget = self._make_viewer(node_id, value)
        for page in self.viewer_pages:
            if (page.node_id, page.port) == (node_id, port):
                page.replace_viewer(widget, key)
                self._show_page(page)
                return widget
        page = ViewerPage(node_id, port, f"{label} \u00b7 {port_label}", key, widget)
        page.refresh_requested.connect(self._refresh_page)
        page.detach_requested.connect(self._toggle_page_window)
        page.closed.connect(self._page_closed)
        self.viewer_pages.append(page)
        self.show_workspace()
        self.viewer_area.add_page(page)
        return widget

    def _show_page(self, page: ViewerPage) -> None:
        window = page.window()
        if isinstance(window, ViewerWindow):
            window.raise_()
            window.activateWindow()
        else:
            self.viewer_area.setCurrentWidget(page)
        self.viewer_area.mark(page)

    def _refresh_page(self, page: ViewerPage) -> None:
        found = self._current_output(page.node_id, page.port)
        if found is not None:
            page.replace_viewer(self._make_viewer(page.node_id, found[0]), found[1])
            self.viewer_area.mark(page)

    def _toggle_page_window(self, page: ViewerPage) -> None:
        window = page.window()
        if isinstance(window, ViewerWindow):  # back into the tabs
            page.setParent(None)
            window.page = None  # type: ignore[assignment]
            window.close()
            page.detach_button.setText("Open in Window")
            self.viewer_area.add_page(page)
            self.viewer_area.mark(page)
            return
        self.viewer_area.take_page(page)
        floating = ViewerWindow(page, self)  # a window of its own, owned by this one
        floating.move(self.geometry().center() - floating.rect().center())
        floating.show()

    def _page_closed(self, page: ViewerPage) -> None:
        if page in self.viewer_pages:
            self.viewer_pages.remove(page)

    def _refresh_viewer_pages(self, keys: dict[str, str]) -> None:
        """Mark pages whose node changed since; show the current result where one is
        cached already (after a run, or an undo back to a computed state)."""
        cache = self.document.engine.cache
        for page in list(self.viewer_pages):
            if page.node_id not in self.document.workflow.nodes:
                page.set_stale(True, f"'{page.title}' was deleted from the workflow.")
                self.viewer_area.mark(page)
                continue
            key = keys.get(page.node_id)
            if key == page.key:
                if page.stale:
                    page.set_stale(False)
                    self.viewer_area.mark(page)
                continue
            if key is not None and key in cache and self._run_live is None:
                self._refresh_page(page)
                continue
            label = self.document.node_label(page.node_id)
            page.set_stale(True, f"Outdated: '{label}' or what feeds it changed since this "
                                 "result was computed. Run the workflow (F5) to update it.")
            self.viewer_area.mark(page)

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
        menu.addAction(self.act_lineage)
        if source_file(self.document.workflow, item.node_id) is not None:
            menu.addAction(self.act_describe_data)
        menu.addSeparator()
        menu.addAction(self.act_rename)
        menu.addAction(self.act_duplicate)
        menu.addAction(self.act_delete)
        menu.exec(event.globalPos())

    def show_shortcuts(self) -> help_dialogs.ShortcutsDialog:
        dialog = help_dialogs.ShortcutsDialog([a for a in self.findChildren(QAction)], self)
        dialog.show()
        self.shortcuts_dialog = dialog
        return dialog

    # -- files -----------------------------------------------------------------------------
    def new_window(self) -> MainWindow:
        window = MainWindow()
        window.show()
        return window

    def open_dialog(self) -> None:
        start = str(self.document.path.parent) if self.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow", start, FILE_FILTER)
        if path:
            self.open_path(Path(path))

    def _is_empty(self) -> bool:
        return not self.document.workflow.nodes and not self.document.dirty

    def _show_document(self, document: Document) -> MainWindow:
        """Here if this window is empty and clean (it is replaced), else a new window."""
        window = MainWindow(document)
        if self._is_empty():
            window.setGeometry(self.geometry())
            window.show()
            self.close()
        else:
            window.show()
        window.raise_()
        window.activateWindow()  # the keyboard (F5, Tab) goes to the window just opened
        window.view.setFocus()
        return window

    def open_path(self, path: Path) -> MainWindow | None:
        """Open a file; a shipped example opens as an untitled copy."""
        path = Path(path)
        if _is_example(path):
            return self.open_example(path)
        try:
            document = Document.open(path)
        except StudioError as error:
            QMessageBox.warning(self, "Cannot open workflow", str(error))
            return None
        self._remember_recent(path)
        return self._show_document(document)

    def open_example(self, path: Path) -> MainWindow | None:
        """An untitled copy of an example: Save asks for a path, the example stays."""
        try:
            document = Document.open_copy(Path(path))
        except StudioError as error:
            QMessageBox.warning(self, "Cannot open example", str(error))
            return None
        window = self._show_document(document)
        window.show_status(f"A copy of the example {Path(path).name}: Save asks where to keep "
                           "it.")
        return window

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        name = self.document.suggested_file_name()
        folder = self.document.path.parent if self.document.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, "Save workflow", str(folder / name),
                                              FILE_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path = path.removesuffix(".json") + SUFFIX
        if _is_example(Path(path)):
            QMessageBox.warning(self, "Cannot save here",
                                "The shipped examples stay as they are: choose another "
                                "folder or name.")
            return False
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
        self.save_layout()
        self.autosave_timer.stop()
        recovery.remove_recovery(self.document.path, self.recovery_token)
        for page in list(self.viewer_pages):
            window = page.window()
            if isinstance(window, ViewerWindow):
                window.close()
        for viewer in self.findChildren(QWidget):
            cancel = getattr(viewer, "cancel_work", None)
            if callable(cancel):
                cancel()
        self.runner.close()
        self.document.close()
        if self in _WINDOWS:
            _WINDOWS.remove(self)
        event.accept()

    # -- recent files ---------------------------------------------------------------------
    def _remember_recent(self, path: Path) -> None:
        settings.remember_recent(path)
        for window in list(_WINDOWS):
            window._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))


def _is_example(path: Path) -> bool:
    try:
        return Path(path).resolve().parent == EXAMPLES_DIR.resolve()
    except OSError:
        return False


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
