"""Case changes and notice choice for one parcel."""

from aftercare.rules.anomalies import Anomaly, AnomalyKind, Severity
from aftercare.rules.cases import ExistingCase, plan_cases

K, S = AnomalyKind, Severity


def anomaly(kind, severity=S.MINOR):
    return Anomaly(kind, severity, "detail")


def test_new_anomaly_opens_a_case_and_one_notice():
    plan = plan_cases({}, [anomaly(K.STALLED)], delivered=False)
    assert [(c.action, c.kind) for c in plan.changes] == [("opened", K.STALLED)]
    assert [(n.template, n.suppressed_reason) for n in plan.notices] == [
        ("logistics_stalled_minor", None)
    ]


def test_known_open_case_is_not_opened_again_nor_noticed_again():
    existing = {K.STALLED: ExistingCase(K.STALLED, S.MINOR, True)}
    plan = plan_cases(existing, [anomaly(K.STALLED)], delivered=False)
    assert plan.changes == [] and plan.notices == []


def test_escalation_from_minor_to_serious_updates_and_notices():
    existing = {K.STALLED: ExistingCase(K.STALLED, S.MINOR, True)}
    plan = plan_cases(existing, [anomaly(K.STALLED, S.SERIOUS)], delivered=False)
    assert [(c.action, c.severity) for c in plan.changes] == [("escalated", S.SERIOUS)]
    assert [n.template for n in plan.notices] == ["logistics_stalled_serious"]


def test_delivery_closes_logistics_cases_but_not_a_proxy_signature():
    existing = {
        K.STALLED: ExistingCase(K.STALLED, S.MINOR, True),
        K.OVERDUE: ExistingCase(K.OVERDUE, S.MINOR, True),
    }
    plan = plan_cases(existing, [anomaly(K.SIGNED_BY_PROXY)], delivered=True)
    actions = {(c.action, c.kind, c.note) for c in plan.changes}
    assert actions == {
        ("opened", K.SIGNED_BY_PROXY, "detail"),
        ("closed", K.STALLED, "delivered"),
        ("closed", K.OVERDUE, "delivered"),
    }


def test_stalled_case_clears_when_the_parcel_moves_again():
    existing = {K.STALLED: ExistingCase(K.STALLED, S.MINOR, True)}
    plan = plan_cases(existing, [], delivered=False)
    assert [(c.action, c.note) for c in plan.changes] == [("closed", "no longer observed")]


def test_refused_case_stays_open_until_someone_acts():
    existing = {K.REFUSED: ExistingCase(K.REFUSED, S.SERIOUS, True)}
    assert plan_cases(existing, [], delivered=False).changes == []


def test_closed_case_seen_again_is_reopened_without_a_second_case():
    existing = {K.STALLED: ExistingCase(K.STALLED, S.MINOR, False)}
    plan = plan_cases(existing, [anomaly(K.STALLED)], delivered=False)
    assert [c.action for c in plan.changes] == ["reopened"]


def test_only_the_most_pressing_notice_goes_out_the_others_are_recorded():
    plan = plan_cases({}, [anomaly(K.OVERDUE), anomaly(K.STALLED, S.SERIOUS)], delivered=False)
    sent = [n for n in plan.notices if n.suppressed_reason is None]
    held = [n for n in plan.notices if n.suppressed_reason]
    assert [n.template for n in sent] == ["logistics_stalled_serious"]
    assert [n.template for n in held] == ["logistics_overdue"]
    assert "instead" in held[0].suppressed_reason


def test_untrackable_parcel_gets_a_case_but_no_buyer_notice():
    plan = plan_cases({}, [anomaly(K.UNTRACKABLE)], delivered=False)
    assert [c.kind for c in plan.changes] == [K.UNTRACKABLE] and plan.notices == []


def test_a_failed_check_never_closes_a_case_as_cleared():
    existing = {K.STALLED: ExistingCase(K.STALLED, S.MINOR, True)}
    assert plan_cases(existing, [], delivered=False, observed=False).changes == []
