"""The bot over HTTP (``/api/v1/bot/ask`` contract), the FAQ status and hot reload, and
the admins' view of what the bot could not answer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import DEMO_FAQ
from tests.support.clients import agent, say, visitor
from tests.support.server import LiveServer, start_live_server
from tests.support.waiting import QUERY_POLL_S, eventually

RELOAD_WAIT_S = 20  # hang protection for the file watcher, not a speed bound


async def ask(server: LiveServer, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        return await client.post("/api/v1/bot/ask", json=body)


async def test_ask_answers_a_czech_question_typed_without_diacritics(
    live_server: LiveServer,
) -> None:
    response = await ask(live_server, text="kolik stoji doprava", lang="cs")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"outcome", "lang", "entry_id", "answer", "score", "suggestions"}
    assert body["outcome"] == "answer"
    assert body["entry_id"] == "shipping-cost"
    assert body["lang"] == "cs"
    assert body["answer"].startswith("Doprava balíku")
    assert 0 <= body["score"] <= 1


async def test_ask_ignores_an_unsupported_language_hint(live_server: LiveServer) -> None:
    body = (await ask(live_server, text="How much does shipping cost?", lang="de")).json()
    assert body["lang"] in live_server.settings.languages
    assert body["lang"] == "en"


async def test_ask_suggestions_are_distinct_and_at_most_three(live_server: LiveServer) -> None:
    for text in ("warranty", "order", "battery bike service", "payment card"):
        body = (await ask(live_server, text=text, lang="en")).json()
        ids = [s["entry_id"] for s in body["suggestions"]]
        assert len(ids) <= 3 and len(ids) == len(set(ids))
        assert (body["entry_id"] is None) == (body["answer"] is None)


async def test_ask_refuses_bad_input_with_a_clear_error(live_server: LiveServer) -> None:
    assert (await ask(live_server, text="")).status_code == 422
    assert (await ask(live_server, lang="en")).status_code == 422
    assert (await ask(live_server, text="x" * 5000)).status_code == 422


async def test_unanswered_groups_misses_and_exports_drafts_seeded_by_the_agent(
    live_server: LiveServer,
) -> None:
    await live_server.create_agent(email="admin@x.test", name="Ada", role="admin")
    await live_server.create_agent(email="a@x.test", name="Alice")
    admin_token = await live_server.login("admin@x.test")
    agent_token = await live_server.login("a@x.test")
    console, _ = await agent(live_server.ws_url, agent_token)
    await console.send({"type": "status", "status": "online"})
    await console.expect("status")

    question = "Do you sell roller skates for children?"
    client, _ = await visitor(live_server.ws_url, lang="en")
    await say(client, question)
    reply = await client.expect("message", lambda f: f["author"] == "bot")
    assert reply["bot"]["outcome"] in ("suggest", "handoff")
    other, _ = await visitor(live_server.ws_url, lang="en")
    await say(other, "do you sell roller skates for kids")
    await other.expect("message", lambda f: f["author"] == "bot")

    await client.send({"type": "handoff"})
    offer = await console.expect("offer")
    await console.send({"type": "accept", "conversation_id": offer["conversation_id"]})
    await console.expect("assigned")
    answer = "No, we sell only bicycles and cycling gear."
    await console.send(
        {
            "type": "message",
            "conversation_id": offer["conversation_id"],
            "client_id": "r1",
            "text": answer,
        }
    )
    await console.expect("message", lambda f: f.get("client_id") == "r1")

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        forbidden = await http.get(
            "/api/v1/admin/unanswered", headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert forbidden.status_code == 403
        auth = {"Authorization": f"Bearer {admin_token}"}
        groups = (await http.get("/api/v1/admin/unanswered", headers=auth)).json()["groups"]
        skates = [g for g in groups if "skates" in g["representative"].lower()]
        assert len(skates) == 1, groups
        assert skates[0]["count"] == 2
        assert any(e["agent_reply"] == answer for e in skates[0]["examples"])
        export = await http.get("/api/v1/admin/unanswered/export", headers=auth)
    drafts = yaml.safe_load(export.text)["entries"]
    [draft] = [d for d in drafts if "skates" in " ".join(d["questions"]["en"]).lower()]
    assert draft["answer"]["en"] == answer
    await client.close()
    await other.close()
    await console.close()


async def test_unhelpful_answer_is_recorded_for_admins(live_server: LiveServer) -> None:
    await live_server.create_agent(email="admin@x.test", name="Ada", role="admin")
    token = await live_server.login("admin@x.test")
    client, _ = await visitor(live_server.ws_url, lang="en")
    await say(client, "How much does shipping cost?")
    reply = await client.expect("message", lambda f: f["author"] == "bot")
    assert reply["bot"]["outcome"] == "answer"
    await client.send({"type": "feedback", "message_id": reply["id"], "helpful": False})
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:

        async def recorded() -> bool:
            groups = (
                await http.get(
                    "/api/v1/admin/unanswered", headers={"Authorization": f"Bearer {token}"}
                )
            ).json()["groups"]
            return any(e["outcome"] == "unhelpful" for g in groups for e in g["examples"])

        await eventually(
            recorded, what="the unhelpful answer is listed", timeout_s=RELOAD_WAIT_S, poll_s=0.05
        )
    await client.close()


@pytest.fixture
def faq_copy(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(DEMO_FAQ, target)
    return target


async def test_invalid_faq_change_keeps_serving_and_shows_problems_then_recovers(
    sqlite_url: str, faq_copy: Path
) -> None:
    async with start_live_server(
        database_url=sqlite_url, faq_dir=faq_copy, secret_key="k" * 32
    ) as server:
        await server.create_agent(email="admin@x.test", name="Ada", role="admin")
        token = await server.login("admin@x.test")
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=auth) as http:
            status = (await http.get("/api/v1/admin/faq/status")).json()
            assert status["ok"] and status["entries"] >= 30
            broken = faq_copy / "broken.yaml"
            broken.write_text("entries:\n  - id: Bad Id\n    questions: {}\n", encoding="utf-8")

            async def faq_ok() -> bool:
                return bool((await http.get("/api/v1/admin/faq/status")).json()["ok"])

            async def faq_broken() -> bool:
                return not await faq_ok()

            await eventually(
                faq_broken,
                what="the FAQ status shows the problem",
                timeout_s=RELOAD_WAIT_S,
                poll_s=QUERY_POLL_S,
            )
            status = (await http.get("/api/v1/admin/faq/status")).json()
            assert any(p["file"].endswith("broken.yaml") for p in status["problems"])
            assert all(p["line"] is not None for p in status["problems"])
            still = (await ask(server, text="kolik stoji doprava", lang="cs")).json()
            assert still["entry_id"] == "shipping-cost"

            broken.write_text(
                yaml.safe_dump(
                    {
                        "entries": [
                            {
                                "id": "roller-skates",
                                "questions": {"en": ["Do you sell roller skates?"]},
                                "answer": {"en": "No, only bicycles and cycling gear."},
                            }
                        ]
                    }
                ),
                encoding="utf-8",
            )
            await eventually(
                faq_ok,
                what="the FAQ status is ok again",
                timeout_s=RELOAD_WAIT_S,
                poll_s=QUERY_POLL_S,
            )
            body = (await ask(server, text="Do you sell roller skates?", lang="en")).json()
            assert body["entry_id"] == "roller-skates"
