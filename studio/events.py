"""A small, thread-safe event bus with no Qt in it.

The workflow model and the engine publish events here; the CLI prints them,
the GUI forwards them to the GUI thread through a Qt signal. Subscribers are
called synchronously in the publishing thread; a subscriber that raises is
logged and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened: a kind ("node_added", "node_state"...) and data."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


Subscriber = Callable[[Event], None]


class EventBus:
    """Publish/subscribe by event kind (``None`` subscribes to every kind)."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str | None, Subscriber]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber, kind: str | None = None) -> Callable[[], None]:
        """Call ``callback`` for events of ``kind``; returns an unsubscribe function."""
        entry = (kind, callback)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, kind: str, **data: Any) -> Event:
        event = Event(kind, data)
        with self._lock:
            targets = [cb for k, cb in self._subscribers if k is None or k == kind]
        for callback in targets:
            try:
                callback(event)
            except Exception:  # one broken listener must not break the model or a run
                log.exception("event subscriber failed on %s", kind)
        return event
