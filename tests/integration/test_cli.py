"""The ``chatdesk`` command as users run it: subprocesses, a temp database, real output."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chatdesk.bot.semantic import semantic_available
from tests.conftest import DEMO_FAQ, require_service
from tests.support.server import free_port, redis_namespace

CLI_TIMEOUT_S = 60  # hang protection only
SMALL_FAQ = Path(__file__).parents[1] / "unit" / "bot" / "data" / "faq"


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
    env["CHATDESK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    # The embedding model adds seconds to every start; its own test below turns it on.
    env["CHATDESK_BOT_SEMANTIC"] = "off"
    env.update({f"CHATDESK_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(
    tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatdesk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env or _env(tmp_path),
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    from chatdesk import __version__

    result = run_cli(tmp_path, "version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chatdesk {__version__}"


def test_added_agent_appears_in_the_list(tmp_path: Path) -> None:
    added = run_cli(
        tmp_path,
        "agents",
        "add",
        "--email",
        "Anna@Example.com",
        "--name",
        "Anna Nováková",
        "--role",
        "supervisor",
        "--languages",
        "cs,en",
        "--departments",
        "sales,support",
        "--max-chats",
        "5",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert "anna@example.com" in added.stdout
    listed = run_cli(tmp_path, "agents", "list")
    assert listed.returncode == 0
    header, row = listed.stdout.strip().splitlines()
    assert header.split() == [
        "EMAIL",
        "NAME",
        "ROLE",
        "LANGUAGES",
        "DEPARTMENTS",
        "MAX",
        "STATUS",
        "AUTO",
    ]
    for value in ("anna@example.com", "Anna Nováková", "supervisor", "cs,en", "sales,support"):
        assert value in row


def test_existing_email_is_one_error_line(tmp_path: Path) -> None:
    first = run_cli(
        tmp_path, "agents", "add", "--email", "a@example.com", "--name", "A", stdin="password1\n"
    )
    assert first.returncode == 0, first.stderr
    again = run_cli(
        tmp_path, "agents", "add", "--email", "A@EXAMPLE.com", "--name", "A", stdin="password1\n"
    )
    assert_one_error_line(again, "already exists")


@pytest.mark.parametrize(
    ("extra", "password", "message"),
    [
        ((), "short\n", "at least 8"),
        ((), "", "no password on stdin"),
        (("--languages", "de"), "password1\n", "unsupported language"),
        (("--max-chats", "99"), "password1\n", "max_chats"),
        (("--role", "owner"), "password1\n", "invalid choice"),
    ],
)
def test_invalid_agent_input_is_one_error_line(
    tmp_path: Path, extra: tuple[str, ...], password: str, message: str
) -> None:
    result = run_cli(
        tmp_path, "agents", "add", "--email", "a@example.com", "--name", "A", *extra, stdin=password
    )
    assert_one_error_line(result, message)


def test_disabling_an_agent_shows_in_the_list(tmp_path: Path) -> None:
    run_cli(tmp_path, "agents", "add", "--email", "a@example.com", "--name", "A", stdin="pass1234")
    assert run_cli(tmp_path, "agents", "disable", "A@example.com").returncode == 0
    assert "disabled" in run_cli(tmp_path, "agents", "list").stdout
    assert_one_error_line(run_cli(tmp_path, "agents", "disable", "nobody@example.com"), "no agent")


def test_usage_mistakes_are_one_error_line_with_exit_1(tmp_path: Path) -> None:
    assert_one_error_line(run_cli(tmp_path, "bogus"), "invalid choice")
    assert_one_error_line(run_cli(tmp_path, "agents", "add"), "--email")
    assert_one_error_line(run_cli(tmp_path, "serve", "--port", "eighty"), "--port")


def test_help_still_works(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    assert "serve" in result.stdout


def test_bad_setting_in_the_environment_is_one_error_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "agents", "list", env=_env(tmp_path, port="abc"))
    assert_one_error_line(result, "CHATDESK_PORT")


def test_unreachable_database_is_one_error_line(tmp_path: Path) -> None:
    env = _env(tmp_path, database_url=f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    assert_one_error_line(run_cli(tmp_path, "agents", "list", env=env), "database")


def test_several_workers_need_postgres_and_redis(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "serve", "--workers", "2")
    assert_one_error_line(refused, "--workers 2", "Redis")
    postgres_only = run_cli(
        tmp_path, "serve", "--workers", "2", "--database-url", "postgresql://u@127.0.0.1/db"
    )
    assert_one_error_line(postgres_only, "CHATDESK_REDIS_URL")


def test_scale_out_without_a_secret_key_is_refused(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        database_url="postgresql://u@127.0.0.1/db",
        redis_url="redis://127.0.0.1:6379/0",
    )
    assert_one_error_line(run_cli(tmp_path, "serve", env=env), "SECRET_KEY")


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    from chatdesk.storage.tables import Base

    result = run_cli(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert {name for (name,) in rows} >= set(Base.metadata.tables) | {"alembic_version"}
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0  # idempotent


def test_demo_seed_prints_working_credentials_every_time(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "demo", "seed")
    second = run_cli(tmp_path, "demo", "seed")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert "admin@example.com" in first.stdout
    assert run_cli(tmp_path, "agents", "list").stdout.count("@example.com") == 4


def test_faq_schema_is_json(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "faq", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "entries" in json.dumps(schema)


def test_faq_validate_accepts_the_demo_faq(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "faq", "validate", str(DEMO_FAQ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")
    assert "entries in" in result.stdout


def test_faq_validate_names_file_and_line_of_each_problem(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "broken.yaml").write_text(
        "entries:\n"
        "  - id: shipping\n"
        "    questions:\n"
        "      en: ['How much is shipping?']\n"
        "    answer:\n"
        "      en: 'Free.'\n"
        "    handof: true\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path, "faq", "validate", str(faq))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if not line.startswith("error:")]
    assert problems
    assert problems[0].startswith(f"{faq / 'broken.yaml'}:")
    assert "handof" in problems[0]
    line_number = problems[0].split(":")[1]
    assert line_number.isdigit()
    assert result.stderr.strip().splitlines()[-1].startswith("error: 1 problem")


def test_faq_validate_of_a_missing_directory_fails(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "faq", "validate", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "not a directory" in result.stderr


def test_faq_test_reports_the_bot_decision(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "faq",
        "test",
        "How much does shipping cost?",
        "--lang",
        "en",
        "--faq-dir",
        str(DEMO_FAQ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("decision: ")


@pytest.mark.skipif(not semantic_available(), reason="the semantic extra is not installed")
def test_faq_test_with_the_embedding_model_shows_the_fused_ranking(tmp_path: Path) -> None:
    # A small FAQ: embedding the demo FAQ's 900 phrasings would take most of a minute.
    result = run_cli(
        tmp_path,
        "faq",
        "test",
        "I changed my mind about the parcel, can I send it back to you?",
        "--faq-dir",
        str(SMALL_FAQ),
        env=_env(tmp_path, bot_semantic="on"),
    )
    assert result.returncode == 0, result.stderr
    # The words find no candidate; their meaning still ranks the returns entry first.
    assert "candidates: none" in result.stdout
    ranking = result.stdout.split("suggestion ranking (lexical + semantic):\n", 1)[1]
    assert ranking.split()[0] == "returns"


@pytest.mark.redis
@pytest.mark.postgres
async def test_serve_with_two_workers_answers_on_postgres_and_redis(
    tmp_path: Path, postgres_url: str
) -> None:
    database_url = postgres_url
    redis_url = require_service("CHATDESK_TEST_REDIS_URL")
    port = free_port()
    env = _env(
        tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        redis_namespace=redis_namespace(database_url),
        secret_key="test-secret-key-0123456789abcdef",
        faq_dir=str(DEMO_FAQ),
    )
    assert run_cli(tmp_path, "db", "upgrade", env=env).returncode == 0
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chatdesk", "serve", "--workers", "2", "--port", str(port),
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with (
            asyncio.timeout(CLI_TIMEOUT_S),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            while True:
                assert process.returncode is None, "server exited"
                try:
                    response = await client.get("/readyz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)  # the workers are still starting
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
    finally:
        process.terminate()
        await process.wait()
