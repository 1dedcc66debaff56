"""The one Prefect retry condition: a task run is retried only when its failure may pass."""

from __future__ import annotations

from typing import Any

from aftercare.clients.errors import PermanentError


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry after anything but a permanent provider error (refused credentials included).

    The HTTP calls already retried what a retry can fix; a wrong secret or a refused request
    fails the same way every time, and waiting only hides the message naming the setting.
    """
    try:
        state.result()
    except PermanentError:
        return False
    except Exception:
        return True
    return True
