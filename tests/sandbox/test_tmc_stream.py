"""The message channel over WebSocket: frames, signing, redelivery, duplicates, drops."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.clients import tmc_frames as client_frames
from aftercare.clients.errors import AuthenticationError, ProviderUnavailable
from aftercare.clients.taobao_tmc_stream import MessageStream
from sandbox import SHOPS, Sandbox
from sandbox import tmc_frames as server_frames
from sandbox.shops import CREDENTIALS

from .conftest import ANCHOR

values = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=40))


@given(st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=8), st.text(max_size=20))
def test_each_side_reads_what_the_other_writes(content, token):
    # Two codecs written apart from the same layout: a misreading on either side shows here.
    frame = server_frames.decode(client_frames.write(client_frames.SEND, content, token=token))
    assert (frame.type, frame.token, frame.content) == (server_frames.SEND, token, content)
    back = client_frames.read(
        server_frames.encode(server_frames.Frame(server_frames.SEND, status=0, content=content))
    )
    assert (back.type, back.status, back.content) == (client_frames.SEND, 0, content)


def test_a_frame_cut_short_is_refused_by_both_sides():
    whole = client_frames.write(client_frames.CONNECT, {"app_key": "12345678"})
    with pytest.raises(server_frames.FrameError):
        server_frames.decode(whole[:-3])
    with pytest.raises(client_frames.MalformedResponse):
        client_frames.read(whole[:-3])


def stream(sb: Sandbox, secret: str | None = None, group: str = "default") -> MessageStream:
    keys = CREDENTIALS["taobao"]
    return MessageStream(
        sb.url("tmc_stream"),
        app_key=keys["app_key"],
        app_secret=secret or keys["app_secret"],
        group=group,
    )


def permitted(sb: Sandbox, code: str = "mumu") -> None:
    sb.clock.set(ANCHOR - timedelta(hours=12))
    sb.taobao.channel.permit(SHOPS[code])
    sb.clock.set(ANCHOR)


def test_a_wrong_secret_or_group_is_refused_at_connect(sb: Sandbox):
    for wrong in (stream(sb, secret="not-the-secret"), stream(sb, group="nobody")):
        with pytest.raises(AuthenticationError) as raised:
            wrong.open()
        assert "not-the-secret" not in str(raised.value)
        assert not wrong.is_open
    assert sb.tmc_stream.refused == 2


def test_nothing_answers_on_a_closed_port():
    with pytest.raises(ProviderUnavailable):
        MessageStream("ws://127.0.0.1:9/", app_key="1", app_secret="x").open(timeout=2)


def test_pulled_messages_are_triggers_and_unconfirmed_ones_come_again(sb: Sandbox):
    permitted(sb)
    first = stream(sb)
    first.open()
    batch = first.pull(wait=0.3, limit=500)
    assert batch.messages and not batch.rejected
    for message in batch.messages:
        assert message.seller_nick == SHOPS["mumu"].seller_nick and message.tid
        assert "status" not in json.loads(message.content) or message.topic.endswith("Close")
    half = [m.id for m in batch.messages[: len(batch.messages) // 2]]
    first.confirm(half)
    first.close()  # the consumer dies with the other half unconfirmed
    second = stream(sb)
    second.open()
    assert second.pull(wait=0.3, limit=500).messages == (), "not before the timeout"
    sb.clock.set(ANCHOR + timedelta(seconds=61))
    again = {m.id for m in second.pull(wait=0.3, limit=500).messages}
    assert again == {m.id for m in batch.messages} - set(half)
    second.confirm(sorted(again))
    second.pull(wait=0.3, limit=500)  # the confirmations are read before the next pull
    assert sb.taobao.channel.unconfirmed() == 0
    second.close()


def test_a_failed_message_comes_again_at_the_next_pull(sb: Sandbox):
    permitted(sb)
    consumer = stream(sb)
    consumer.open()
    batch = consumer.pull(wait=0.3, limit=500)
    failed = batch.messages[0].id
    consumer.confirm([m.id for m in batch.messages[1:]])
    consumer.fail([failed])
    assert [m.id for m in consumer.pull(wait=0.3, limit=500).messages] == [failed]
    assert sb.tmc_stream.failed == 1
    consumer.close()


def test_repeats_come_out_of_order_and_a_drop_cuts_a_batch(sb: Sandbox):
    permitted(sb)
    sb.taobao.channel.duplicate_rate, sb.taobao.channel.shuffle = 0.5, True
    try:
        consumer = stream(sb)
        consumer.open()
        ids = [int(m.id) for m in consumer.pull(wait=0.3, limit=500).messages]
        assert max(Counter(ids).values()) > 1 and ids != sorted(ids)
        consumer.close()
    finally:
        sb.taobao.channel.duplicate_rate, sb.taobao.channel.shuffle = 0.0, False
    sb.clock.set(ANCHOR + timedelta(minutes=2))
    sb.tmc_stream.drop_rate = 0.2
    cut = stream(sb)
    cut.open()
    got = cut.pull(wait=0.3, limit=500).messages
    assert sb.tmc_stream.dropped == 1 and not cut.is_open
    assert len(got) < len({int(i) for i in ids})
