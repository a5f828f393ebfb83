"""docs/protocol.md's example exchange, replayed against a live server so the docs can't
drift: every client frame is sent as written; every server frame must arrive, in order among
the listed ones, with the same ``type`` and at least the keys shown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.clients import WsClient
from tests.support.server import LiveServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BLOCK = re.compile(r"```jsonl\n(.*?)```", re.DOTALL)


def exchanges() -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """(endpoint path, [(direction, frame)]) for every ```jsonl block of the document."""
    found = []
    for block in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        lines = [line for line in block.splitlines() if line.strip()]
        assert lines[0].startswith("# /ws/"), "each example starts with its endpoint"
        steps = []
        for line in lines[1:]:
            direction, _, body = line.partition(" ")
            assert direction in (">", "<"), line
            steps.append((direction, json.loads(body)))
        found.append((lines[0][2:].strip(), steps))
    return found


def test_document_has_examples_for_both_endpoints() -> None:
    paths = [path for path, _ in exchanges()]
    assert paths == ["/ws/visitor", "/ws/agent"]
    codes = {
        "bad_frame", "unknown_type", "unauthorized", "forbidden", "not_found", "too_large",
        "rate_limited", "illegal_state", "offer_expired", "internal",
    }  # fmt: skip
    text = DOC.read_text(encoding="utf-8")
    assert all(f"`{code}`" in text for code in codes)
    assert all(str(code) in text for code in (1001, 1008, 1009, 1011, 1013))


@pytest.mark.parametrize("index", [0, 1], ids=["visitor", "agent"])
async def test_example_exchange_replays_against_the_server(
    live_server: LiveServer, index: int
) -> None:
    path, steps = exchanges()[index]
    token = ""
    if path == "/ws/agent":
        await live_server.create_agent(email="alice@x.test", name="Alice")
        token = await live_server.login("alice@x.test")
    client = await WsClient.connect(f"{live_server.ws_url}{path}")
    for direction, frame in steps:
        if direction == ">":
            if frame.get("token") == "AGENT_TOKEN":
                frame = {**frame, "token": token}
            await client.send(frame)
            continue
        got = await client.expect(frame["type"])
        missing = set(frame) - set(got)
        assert not missing, f"{frame['type']} lacks {missing}: {got}"
        for key in ("code", "reason", "author", "state", "status", "outcome"):
            if key in frame:
                assert got[key] == frame[key], (key, got)
        if "bot" in frame:
            assert set(frame["bot"]) <= set(got["bot"])
            assert got["bot"]["outcome"] == frame["bot"]["outcome"]
    await client.close()
