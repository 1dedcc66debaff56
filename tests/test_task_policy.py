"""Tasks retry only after failures that may pass: the HTTP policy's own rule."""

import pytest
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from sqlalchemy.exc import OperationalError

from aftercare.clients.errors import AuthenticationError, RequestRejected, TransientError
from tasks.policy import pipeline_task, worth_retrying
from tasks.shops import list_shops
from tasks.trades import sync_trades


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (TransientError("busy", provider="taobao", status=503), True),
        # It may have taken effect: the HTTP policy repeats only idempotent calls; a task
        # re-reads before it writes, so its calls are.
        (TransientError("timeout", provider="taobao", maybe_processed=True), True),
        (
            AuthenticationError("bad secret", provider="taobao", fix="AFTERCARE_TAOBAO_APP_SECRET"),
            False,
        ),
        (RequestRejected("invalid param", provider="taobao", code="41"), False),
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (KeyError("a bug"), False),
        (ValueError("bad data"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_a_task_is_retried_only_when_the_failure_may_pass(error, retried):
    assert worth_retrying(None, None, Failed(data=error)) is retried


def test_a_completed_task_is_not_retried():
    assert worth_retrying(None, None, Completed(data=1)) is False


def test_tasks_are_declared_alike():
    assert sync_trades.retries == 2 and sync_trades.retry_condition_fn is worth_retrying
    assert sync_trades.cache_policy is NO_CACHE and list_shops.cache_policy is NO_CACHE
    assert list_shops.retries == 0 and list_shops.retry_condition_fn is None

    @pipeline_task("example", run_name="example-{n}")
    def example(n: int) -> int:
        return n

    assert example.name == "example" and example.fn(3) == 3
