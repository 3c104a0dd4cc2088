"""Where outputs are shown: tabs beside the canvas, or windows of their own.

Each open output is a ``ViewerPage``: a header naming the node and port, a
banner when the node changed since the shown result was computed (the page
says so instead of passing an old result off as current), and the viewer.
A page moves between the tab area and its own window without being rebuilt.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.gui.theme import WARNING_COLOR


def _dot(color: str) -> QIcon:
    pixmap = QPixmap(20, 20)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(2, 2, 6, 6)
    painter.end()
    return QIcon(pixmap)


class ViewerPage(QWidget):
    """One node output on screen, and whether it is still the node's current result."""

    #: The user asked for the node's current result (the page, then this).
    refresh_requested = Signal(object)
    #: Move this page into a window of its own, or back into the tabs.
    detach_requested = Signal(object)
    closed = Signal(object)

    def __init__(self, node_id: str, port: str, title: str, key: str | None,
                 viewer: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_id, self.port, self.title, self.key = node_id, port, title, key
        self.viewer = viewer
        self.stale = False
        heading = QLabel(f"<b>{title}</b>")
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detach_button = QToolButton()
        self.detach_button.setText("Open in Window")
        self.detach_button.setToolTip("Show this output in a window of its own "
                                      "(close that window to put it back here)")
        self.detach_button.clicked.connect(lambda: self.detach_requested.emit(self))
        header = QHBoxLayout()
        header.setContentsMargins(6, 4, 6, 2)
        header.addWidget(heading, 1)
        header.addWidget(self.detach_button)
        self.banner = QFrame()
        self.banner.setStyleSheet(f"QFrame {{ background: {WARNING_COLOR}33; "
                                  f"border: 1px solid {WARNING_COLOR}; border-radius: 3px; }}"
                                  "QLabel { border: none; background: transparent; }")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.refresh_button = QPushButton("Show Current Result")
        self.refresh_button.clicked.connect(lambda: self.refresh_requested.emit(self))
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 8, 4)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.refresh_button)
        self.banner.hide()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addLayout(header)
        self._layout.addWidget(self.banner)
        # A viewer larger than the room it gets scrolls inside its page, instead of
        # pushing the canvas and the docks aside.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(viewer)
        self._layout.addWidget(self.scroll, 1)

    def set_stale(self, stale: bool, reason: str = "", current_available: bool = False) -> None:
        self.stale = stale
        self.banner.setVisible(stale)
        self.banner_text.setText(reason)
        self.refresh_button.setVisible(current_available)

    def replace_viewer(self, viewer: QWidget, key: str | None) -> None:
        old = self.scroll.takeWidget()
        self.scroll.setWidget(viewer)
        if old is not None:
            old.deleteLater()
        self.viewer, self.key = viewer, key
        self.set_stale(False)


class ViewerWindow(QWidget):
    """A page in a window of its own; closing the window closes the page."""

    def __init__(self, page: ViewerPage, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.page = page
        self.setWindowTitle(f"{page.title} \u2014 Axon Studio")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(page)
        page.detach_button.setText("Back to Tabs")
        self.resize(900, 640)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.page is not None and self.page.parent() is self:
            self.page.closed.emit(self.page)
        super().closeEvent(event)


class ViewerArea(QTabWidget):
    """The tabs of open outputs beside the canvas; hidden while there are none."""

    #: Emitted when the last tab closes or the first opens (True: has tabs).
    has_pages = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)
        self.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.tabCloseRequested.connect(self._close_tab)
        self._stale_icon = _dot(WARNING_COLOR)

    def add_page(self, page: ViewerPage) -> None:
        index = self.addTab(page, page.title)
        self.setTabToolTip(index, page.title)
        self.setCurrentIndex(index)
        if self.count() == 1:
            self.has_pages.emit(True)

    def take_page(self, page: ViewerPage) -> None:
        index = self.indexOf(page)
        if index >= 0:
            self.removeTab(index)
            if self.count() == 0:
                self.has_pages.emit(False)

    def pages(self) -> list[ViewerPage]:
        return [self.widget(i) for i in range(self.count())]  # type: ignore[misc]

    def mark(self, page: ViewerPage) -> None:
        """Show in the tab whether the page is out of date."""
        index = self.indexOf(page)
        if index >= 0:
            self.setTabIcon(index, self._stale_icon if page.stale else QIcon())
            tip = page.title + (" (outdated: the node changed since)" if page.stale else "")
            self.setTabToolTip(index, tip)

    def _close_tab(self, index: int) -> None:
        page = self.widget(index)
        self.take_page(page)  # type: ignore[arg-type]
        page.closed.emit(page)  # type: ignore[attr-defined]
        page.deleteLater()
