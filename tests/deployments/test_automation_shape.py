"""An unchanged automation reads back as unchanged, whatever order its sets come back in."""

from __future__ import annotations

from prefect.events.actions import DoNothing
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

from deployments.setup import _shape

EVENTS = ["prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"]


def automation(expect: list[str]) -> AutomationCore:
    return AutomationCore(
        name="aftercare: a pipeline run failed",
        trigger=EventTrigger(expect=set(expect), posture=Posture.Reactive, threshold=1),
        actions=[DoNothing()],
    )


def test_the_order_a_set_comes_back_in_does_not_count_as_a_change():
    # The server answers `expect` as a list; the set rebuilt from it can iterate in another
    # order than ours (a hash collision keeps insertion order), which once replaced an
    # unchanged automation on restart.
    shapes = [_shape(automation(order)) for order in (EVENTS, EVENTS[::-1])]
    assert shapes[0] == shapes[1]
    assert shapes[0]["trigger"]["expect"] == sorted(EVENTS)


def test_a_real_change_still_counts():
    assert _shape(automation(EVENTS)) != _shape(automation(EVENTS[:2]))
