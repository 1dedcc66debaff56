"""How every task is declared: one factory, and one retry condition built on the HTTP policy's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from aftercare.clients.errors import ProviderError
from aftercare.clients.retry import should_retry

P = ParamSpec("P")
R = TypeVar("R")
# A provider that failed five attempts in a row is given this long before the task tries again.
RETRY_DELAY_SECONDS = 30


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task only after a failure that may pass: the HTTP policy's own rule, or a
    dropped database connection.

    The HTTP calls already retried what a retry can fix at once; a wrong secret, a refused
    request or a bug fails the same way every time, and waiting only hides the message.
    """
    try:
        state.result()
    except ProviderError as error:
        return should_retry(error, idempotent=True)
    except OperationalError:
        return True
    except Exception:
        return False
    return False


def pipeline_task(
    name: str, *, run_name: str | None = None, retries: int = 0
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Declare a task: never cached (every run reads today's data), retried only when it helps."""

    return task(
        name=name,
        task_run_name=run_name,
        cache_policy=NO_CACHE,
        retries=retries,
        retry_delay_seconds=RETRY_DELAY_SECONDS if retries else 0,
        retry_condition_fn=worth_retrying if retries else None,
    )
