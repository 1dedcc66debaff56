"""Queued staff alert lines gathered into robot digests."""

from dataclasses import dataclass

from aftercare.rules.alerts import digests


@dataclass
class Line:
    id: int
    topic: str
    heading: str
    line: str


HEADING = "{topic} 新中差评 {count} 条"


def test_lines_are_gathered_by_topic_in_order_and_split_at_the_digest_size():
    lines = [Line(n, "sishi" if n % 3 else "mumu", HEADING, f"- #{n}") for n in range(1, 8)]
    found = digests(lines, per_digest=3)
    assert [(d.title, d.ids) for d in found] == [
        ("sishi 新中差评 3 条", (1, 2, 4)),
        ("sishi 新中差评 2 条", (5, 7)),
        ("mumu 新中差评 2 条", (3, 6)),
    ]
    assert found[0].text == "### sishi 新中差评 3 条\n\n- #1\n- #2\n- #4"
    assert digests([], per_digest=3) == []
