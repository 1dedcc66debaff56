"""Courier pushes stored by the receiver start a `parcel-pushes` run through Prefect."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

# The event the receiver emits after storing new pushes; an automation runs parcel-pushes.
PUSHES_STORED = "aftercare.kuaidi100.pushes-stored"


def emit_pushes_stored(new: int) -> None:
    """Tell Prefect that new tracking pushes wait in the inbox."""
    from prefect.events import emit_event

    emit_event(
        event=PUSHES_STORED,
        resource={"prefect.resource.id": "aftercare.courier.kuaidi100"},
        payload={"new": new},
    )


class Coalesced:
    """Pass counts on at most once per `seconds`, the ones in between added up after it.

    A sales-day burst of pushes asks for one run per window instead of one per commit, and
    the last pushes of a burst are announced at the window's end, not left to the schedule.
    """

    def __init__(self, emit: Callable[[int], None], seconds: float) -> None:
        self._emit = emit
        self._seconds = seconds
        self._waiting = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aftercare-push-events", daemon=True)
        self._thread.start()

    def __call__(self, new: int) -> None:
        with self._lock:
            self._waiting += new
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                new, self._waiting = self._waiting, 0
            if new:
                # A failed announcement costs nothing: the schedule drains stored pushes too.
                with contextlib.suppress(Exception):
                    self._emit(new)
            # A pause between announcements, not a wait for business time.
            threading.Event().wait(self._seconds)
