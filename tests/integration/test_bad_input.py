"""Bad input gets the design's ``error`` frame (closing only where going on makes no sense);
after every recoverable error the same connection still gets a message acknowledged, and the
database ends sound, holding exactly the valid messages. Hypothesis drives the live server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from chatdesk.channels.ratelimit import ABUSE_FACTOR, VISITOR_BURST
from tests.conftest import DEMO_FAQ
from tests.integration.flows import check_integrity, has_client_id, stored_messages
from tests.support.clients import WsClient, new_client_id, say, visitor
from tests.support.server import LiveServer

MAX_CHARS = 200  # a small MAX_MESSAGE_CHARS keeps "too long" frames small


ENV: dict[str, Any] = {
    "faq_dir": DEMO_FAQ,
    "secret_key": "test-secret-key-0123456789abcdef",
    "rate_limits": "off",
    "max_message_chars": MAX_CHARS,
}
RATE_LIMITED = pytest.mark.parametrize(
    "server_env", [{**ENV, "rate_limits": "on"}], ids=["rate_limits_on"]
)


@pytest.fixture
def server_env() -> dict[str, Any]:
    """Rate limits off, except for the tests about them (``RATE_LIMITED``)."""
    return ENV


async def _closed_with(client: WsClient) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.connection.recv()
    return None if closed.value.rcvd is None else closed.value.rcvd.code


BAD_FRAMES: list[tuple[str, str, str | None]] = [
    # (raw frame, expected code, client_id echoed)
    ("{not json", "bad_frame", None),
    ("[1, 2]", "bad_frame", None),
    ('{"text": "no type"}', "bad_frame", None),
    ('{"type": 7}', "bad_frame", None),
    ('{"type": "dance"}', "unknown_type", None),
    ('{"type": "message", "client_id": "m1"}', "bad_frame", "m1"),
    ('{"type": "message", "client_id": "m2", "text": 42}', "bad_frame", "m2"),
    ('{"type": "message", "text": "no client id"}', "bad_frame", None),
    (
        '{"type": "message", "client_id": "' + "x" * 65 + '", "text": "id too long"}',
        "bad_frame",
        None,
    ),
    ('{"type": "message", "client_id": "m3", "text": "   "}', "bad_frame", "m3"),
    (
        json.dumps({"type": "message", "client_id": "m4", "text": "y" * (MAX_CHARS + 1)}),
        "too_large",
        "m4",
    ),
    ('{"type": "typing", "on": "yes"}', "bad_frame", None),
    ('{"type": "rating", "score": 9}', "bad_frame", None),
    ('{"type": "rating", "score": 5}', "illegal_state", None),
    ('{"type": "feedback", "message_id": "nope", "helpful": false}', "not_found", None),
    ('{"type": "choose", "entry_id": "no-such-entry"}', "not_found", None),
    ('{"type": "leave_message", "email": "not-an-email", "text": "x"}', "bad_frame", None),
    ('{"type": "hello", "token": null}', "bad_frame", None),
]


async def test_each_bad_frame_gets_its_error_and_the_connection_goes_on(
    live_server: LiveServer,
) -> None:
    client, hello = await visitor(live_server.ws_url)
    valid: list[str] = []
    for raw, code, client_id in BAD_FRAMES:
        await client.send_raw(raw)
        error = await client.expect("error")
        assert (error["code"], error.get("client_id")) == (code, client_id), raw
        assert isinstance(error["message"], str) and error["message"]
        valid.append((await say(client, f"still here after {code}"))["id"])
    rows = await stored_messages(live_server.settings.database_url, hello["conversation_id"])
    assert [row.id for row in rows if row.author == "visitor"] == valid
    await check_integrity(live_server.settings.database_url)
    await client.close()


async def test_unknown_fields_are_ignored(live_server: LiveServer) -> None:
    client, _ = await visitor(live_server.ws_url, future_field={"x": 1})
    await client.send({"type": "message", "client_id": "c", "text": "hi", "colour": "red"})
    assert (await client.expect("message", lambda f: f.get("client_id") == "c"))["text"] == "hi"
    await client.close()


@pytest.mark.parametrize(
    ("path", "first"),
    [
        ("/ws/visitor", {"type": "message", "client_id": "c", "text": "hi"}),
        ("/ws/visitor", {"type": "dance"}),
        ("/ws/agent", {"type": "status", "status": "online"}),
        ("/ws/agent", {"type": "auth", "token": "forged"}),
    ],
)
async def test_first_frame_that_does_not_authenticate_is_refused_with_1008(
    live_server: LiveServer, path: str, first: dict[str, Any]
) -> None:
    client = await WsClient.connect(f"{live_server.ws_url}{path}")
    await client.send(first)
    assert (await client.expect("error"))["code"] == "unauthorized"
    assert await _closed_with(client) == 1008


async def test_frame_over_64_kb_is_closed_with_1009(live_server: LiveServer) -> None:
    client, _ = await visitor(live_server.ws_url)
    await client.send({"type": "message", "client_id": "big", "text": "z" * 70_000})
    assert await _closed_with(client) == 1009


@RATE_LIMITED
async def test_too_many_frames_are_rate_limited_then_accepted_again(
    live_server: LiveServer,
) -> None:
    client, hello = await visitor(live_server.ws_url)
    burst = int(VISITOR_BURST) + 10
    for n in range(burst):
        await client.send({"type": "typing", "on": n % 2 == 0})
    await client.send({"type": "message", "client_id": "limited", "text": "in the flood"})
    error = await client.expect("error", lambda f: f.get("client_id") == "limited")
    assert error["code"] == "rate_limited"
    # Recoverable: once the bucket refills the same connection is served again.
    ack = None
    for _ in range(40):  # bounded; the bucket refills at a few frames per second
        await asyncio.sleep(0.25)
        await client.send({"type": "message", "client_id": "after", "text": "calm now"})
        frame = await _ack_or_error(client, "after")
        if frame["type"] == "message":
            ack = frame
            break
        assert frame["code"] == "rate_limited"
    assert ack is not None
    rows = await stored_messages(live_server.settings.database_url, hello["conversation_id"])
    assert [row.client_id for row in rows if row.author == "visitor"] == ["after"]
    await client.close()


async def _ack_or_error(client: WsClient, client_id: str) -> dict[str, Any]:
    while True:
        frame = await client.recv()
        if frame.get("client_id") == client_id and frame["type"] in ("message", "error"):
            return frame


@RATE_LIMITED
async def test_persistent_flooding_is_closed_with_1008(live_server: LiveServer) -> None:
    client, _ = await visitor(live_server.ws_url)
    flood = int(ABUSE_FACTOR * VISITOR_BURST) + int(VISITOR_BURST) + 50
    try:
        for _ in range(20):  # bounded: a loaded machine refills the bucket between frames
            for _ in range(flood):
                await client.send({"type": "typing", "on": False})
            await asyncio.sleep(0.05)
    except ConnectionClosed:
        pass
    assert await _closed_with(client) == 1008


# -- hypothesis: generated frames against the running server ----------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_json_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text)
VALID = "valid"


@st.composite
def frames(draw: st.DrawFn) -> tuple[str, str | None]:
    """A raw frame and the error code it must get (``VALID``: acknowledged)."""
    kind = draw(
        st.sampled_from(
            ["valid", "junk", "unknown", "wrong_type", "missing", "too_long", "blank", "extra"]
        )
    )
    client_id = new_client_id()
    if kind == "valid":
        text = draw(_text.filter(lambda t: t.strip() and len(t) <= MAX_CHARS))
        return json.dumps({"type": "message", "client_id": client_id, "text": text}), VALID
    if kind == "extra":
        extra = draw(
            st.dictionaries(
                _text.filter(lambda k: k not in ("type", "client_id", "text")),
                _json_value,
                max_size=3,
            )
        )
        return json.dumps({**extra, "type": "message", "client_id": client_id, "text": "ok"}), VALID
    if kind == "junk":
        raw = draw(_text.filter(lambda t: not _is_object(t)))
        return raw or "{", "bad_frame"
    if kind == "unknown":
        name = draw(_text.filter(lambda t: t not in _VISITOR_TYPES))
        return json.dumps({"type": name, "client_id": client_id}), "unknown_type"
    if kind == "wrong_type":
        value = draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)))
        return json.dumps({"type": "message", "client_id": client_id, "text": value}), "bad_frame"
    if kind == "missing":
        return json.dumps({"type": "message", "client_id": client_id}), "bad_frame"
    if kind == "too_long":
        size = draw(st.integers(MAX_CHARS + 1, MAX_CHARS * 3))
        return json.dumps(
            {"type": "message", "client_id": client_id, "text": "a" * size}
        ), "too_large"
    return json.dumps({"type": "message", "client_id": client_id, "text": " \n\t"}), "bad_frame"


_VISITOR_TYPES = {
    "hello",
    "message",
    "typing",
    "handoff",
    "choose",
    "feedback",
    "leave_message",
    "rating",
    "close",
}


def _is_object(raw: str) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(frames(), min_size=1, max_size=8))
async def test_generated_frames_get_errors_or_acks_and_only_valid_ones_are_stored(
    live_server: LiveServer, batch: list[tuple[str, str | None]]
) -> None:
    client, hello = await visitor(live_server.ws_url)
    stored: list[str] = []
    for raw, expected in batch:
        await client.send_raw(raw)
        sync = new_client_id()
        await client.send({"type": "message", "client_id": sync, "text": "sync"})
        outcome = await _first_answer(client, raw)
        if expected == VALID:
            assert outcome["type"] == "message", raw
            stored.append(outcome["id"])
        else:
            assert (outcome["type"], outcome["code"]) == ("error", expected), raw
        stored.append((await client.expect("message", has_client_id(sync)))["id"])
    rows = await stored_messages(live_server.settings.database_url, hello["conversation_id"])
    assert [row.id for row in rows if row.author == "visitor"] == stored
    await check_integrity(live_server.settings.database_url)
    await client.close()


async def _first_answer(client: WsClient, raw: str) -> dict[str, Any]:
    """The error, or the acknowledgement, answering ``raw`` (the frame sent just before a
    sync message: frames are answered in order, so it comes first)."""
    client_id = None
    if _is_object(raw):
        client_id = json.loads(raw).get("client_id")
    while True:
        frame = await client.recv()
        if frame["type"] == "error":
            return frame
        if frame["type"] == "message" and client_id and frame.get("client_id") == client_id:
            return frame
