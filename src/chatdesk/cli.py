"""The ``chatdesk`` command: serve, database upgrades, agents, FAQ tools, demo data.

Settings come from flags, then ``CHATDESK_*`` environment variables, then ``.env`` (flags
win). A user's mistake — a bad flag, a bad setting, an existing email, an invalid FAQ —
prints one ``error: …`` line on stderr and exits 1; it never shows a traceback (pass
``--traceback`` before the command to see one for an unexpected failure).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from pydantic import ValidationError
from pydantic_settings import SettingsError

from chatdesk import __version__
from chatdesk.config import Settings
from chatdesk.errors import ChatdeskError, ConfigError

if TYPE_CHECKING:  # SQLAlchemy is imported only by the commands that use a database
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("chatdesk")

T = TypeVar("T")
GRACEFUL_SHUTDOWN_S = 10  # open sockets get this long to drain before a stop is forced
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SERVE_FLAGS = ("host", "port", "faq_dir", "database_url", "redis_url", "workers")


class UsageError(Exception):
    """A mistake in the command line itself (unknown flag, missing argument)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chatdesk", description="Live chat with a multilingual FAQ bot and human hand-off."
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show a traceback for unexpected errors"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="interface to listen on (CHATDESK_HOST)")
    serve.add_argument("--port", type=int, help="TCP port (CHATDESK_PORT)")
    serve.add_argument("--faq-dir", type=Path, help="FAQ directory (CHATDESK_FAQ_DIR)")
    serve.add_argument("--database-url", help="SQLAlchemy URL (CHATDESK_DATABASE_URL)")
    serve.add_argument("--redis-url", help="Redis URL for scale-out (CHATDESK_REDIS_URL)")
    serve.add_argument(
        "--workers", type=int, help="worker processes; > 1 needs PostgreSQL and Redis"
    )
    serve.set_defaults(handler=cmd_serve)

    database = commands.add_parser("db", help="database schema")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="create or upgrade the schema").set_defaults(
        handler=cmd_db_upgrade
    )

    agents = commands.add_parser("agents", help="manage agent accounts")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True, metavar="COMMAND")
    add = agent_commands.add_parser(
        "add", help="create an agent (password: stdin's first line, or prompted)"
    )
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=("agent", "supervisor", "admin"), default="agent")
    add.add_argument("--languages", type=_csv, help="comma-separated, e.g. cs,en (default: all)")
    add.add_argument("--departments", type=_csv, default=[], help="comma-separated")
    add.add_argument("--max-chats", type=int, default=3, help="parallel chats (1..50)")
    add.add_argument("--auto-accept", action="store_true", help="accept offers automatically")
    add.set_defaults(handler=cmd_agents_add)
    agent_commands.add_parser("list", help="list agents").set_defaults(handler=cmd_agents_list)
    disable = agent_commands.add_parser("disable", help="disable an agent and end their logins")
    disable.add_argument("email")
    disable.set_defaults(handler=cmd_agents_disable)

    faq = commands.add_parser("faq", help="FAQ tools")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True, metavar="COMMAND")
    validate = faq_commands.add_parser("validate", help="check every FAQ file")
    validate.add_argument("directory", nargs="?", type=Path, help="default: the FAQ in use")
    validate.set_defaults(handler=cmd_faq_validate)
    faq_commands.add_parser("schema", help="print the FAQ file JSON schema").set_defaults(
        handler=cmd_faq_schema
    )
    test = faq_commands.add_parser("test", help="show how the bot answers a question")
    test.add_argument("text")
    test.add_argument("--lang", help="language hint, e.g. cs")
    test.add_argument("--faq-dir", type=Path, help="default: the FAQ in use")
    test.set_defaults(handler=cmd_faq_test)

    commands.add_parser("version", help="print the version").set_defaults(handler=cmd_version)

    demo = commands.add_parser("demo", help="demo data")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True, metavar="COMMAND")
    demo_commands.add_parser("seed", help="create the demo agents").set_defaults(
        handler=cmd_demo_seed
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the exit status."""
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args is not None and args.traceback and not _is_user_error(exc):
            raise
        _print_error(describe_error(exc))
        return 1


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, UsageError | ChatdeskError | ValidationError | SettingsError)


def describe_error(exc: BaseException) -> str:
    """One line for the user: what is wrong and, where it helps, which setting."""
    if isinstance(exc, ValidationError):
        return "; ".join(_describe_validation(err) for err in exc.errors(include_url=False))
    if isinstance(exc, ChatdeskError):
        return exc.message
    if isinstance(exc, UsageError | SettingsError):
        return str(exc)
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"database error: {reason} (is the database reachable and upgraded?)"
    if isinstance(exc, OSError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}".splitlines()[0]


def _describe_validation(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:
        return message
    name = str(err["loc"][0])
    return f"invalid CHATDESK_{name.upper()} (--{name.replace('_', '-')}): {message}"


def _print_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201 - the CLI's output channel


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def load_settings(**flags: Any) -> Settings:
    """Settings from flags (those given), then env, then ``.env``."""
    return Settings(**{name: value for name, value in flags.items() if value is not None})


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


# --- serve -----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name) for name in SERVE_FLAGS}
    settings = load_settings(**flags)
    check_serve_settings(settings)
    log_config = logging_config(settings.log_level)
    from chatdesk.server import uvicorn_options

    # The same uvicorn settings as the test servers: sansio websockets, no deflate, pings
    # every half heartbeat, the frame size limit (1009), proxy headers, graceful shutdown.
    common: dict[str, Any] = {
        **uvicorn_options(settings),
        "log_config": log_config,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }
    import uvicorn

    if settings.workers == 1:
        from chatdesk.app import create_app

        uvicorn.run(create_app(settings), **common)
        return 0
    # Each worker process builds its own Settings from the environment: pass the flags on.
    for name, value in flags.items():
        if value is not None:
            os.environ[f"CHATDESK_{name.upper()}"] = str(value)
    uvicorn.run("chatdesk.asgi:app_factory", factory=True, workers=settings.workers, **common)
    return 0


def check_serve_settings(settings: Settings) -> None:
    """Refuse configurations that would misbehave later, before any socket is opened."""
    if settings.workers > 1 and (settings.is_sqlite or settings.redis_url is None):
        raise ConfigError(
            f"--workers {settings.workers} needs a shared database and Redis: set "
            "CHATDESK_DATABASE_URL to PostgreSQL and CHATDESK_REDIS_URL (or use --workers 1)"
        )
    if settings.redis_url is not None and settings.is_sqlite:
        raise ConfigError(
            "CHATDESK_REDIS_URL is set (scale-out) but the database is SQLite: "
            "scale-out needs a shared PostgreSQL database"
        )
    from chatdesk.accounts.secret import resolve_secret_key

    resolve_secret_key(settings)  # scale-out without SECRET_KEY fails here, not per worker


def logging_config(level: str) -> dict[str, Any]:
    """Plain logs, one line per record, for the server and (via uvicorn) every worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


# --- db, agents, demo ---------------------------------------------------------------------


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from chatdesk.storage import db

    settings = load_settings()
    try:
        db.upgrade_sync(settings.database_url)
    except OSError as exc:
        raise _unreachable(settings, exc) from exc
    _out(f"ok: database schema is up to date ({_safe_url(settings.database_url)})")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _with_session(
    settings: Settings, work: Callable[[AsyncSession], Coroutine[Any, Any, T]], *, upgrade: bool
) -> T:
    """Run ``work(session)`` on a fresh engine. Embedded SQLite is upgraded first, as the
    server would at startup, so ``agents add`` works before the first ``serve``."""
    from chatdesk.storage import db

    engine = db.create_engine(settings.database_url, pool_size=1)
    try:
        if upgrade or settings.is_sqlite:
            await db.upgrade(engine)
        async with db.session_factory(engine)() as session:
            return await work(session)
    except OSError as exc:  # refused connection, unknown host, unwritable SQLite directory
        raise _unreachable(settings, exc) from exc
    finally:
        await engine.dispose()


def _unreachable(settings: Settings, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot use the database {_safe_url(settings.database_url)}: {exc}")


def read_new_password(stdin: TextIO) -> str:
    """First line of stdin when piped; else prompted twice (must match)."""
    if not stdin.isatty():
        line = stdin.readline()
        if not line:
            raise ConfigError("no password on stdin (expected the password as its first line)")
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat password: ")
    if first != second:
        raise ConfigError("the passwords do not match")
    return first


def cmd_agents_add(args: argparse.Namespace) -> int:
    from chatdesk.accounts import service as accounts
    from chatdesk.clock import utcnow

    settings = load_settings()
    password = read_new_password(sys.stdin)
    languages = args.languages if args.languages is not None else settings.languages

    async def work(session: AsyncSession) -> accounts.AgentAccount:
        return await accounts.create_agent(
            session,
            email=args.email,
            name=args.name,
            password=password,
            role=args.role,
            languages=languages,
            departments=args.departments,
            max_chats=args.max_chats,
            auto_accept=args.auto_accept,
            now=utcnow(),
        )

    agent = _run(_with_session(settings, work, upgrade=False))
    _out(f"ok: created {agent.role} {agent.email} (id {agent.id})")
    return 0


def cmd_agents_list(_args: argparse.Namespace) -> int:
    from chatdesk.accounts import service as accounts

    agents = _run(_with_session(load_settings(), accounts.list_agents, upgrade=False))
    if not agents:
        _out("no agents yet: create one with `chatdesk agents add --email E --name N`")
        return 0
    header = ("EMAIL", "NAME", "ROLE", "LANGUAGES", "DEPARTMENTS", "MAX", "STATUS", "AUTO")
    rows = [
        (
            a.email,
            a.name,
            a.role,
            ",".join(a.languages),
            ",".join(a.departments) or "-",
            str(a.max_chats),
            "disabled" if a.disabled else a.status,
            "yes" if a.auto_accept else "no",
        )
        for a in agents
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        _out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_agents_disable(args: argparse.Namespace) -> int:
    from chatdesk.accounts import service as accounts
    from chatdesk.clock import utcnow

    async def work(session: AsyncSession) -> accounts.AgentAccount:
        return await accounts.disable_agent(session, email=args.email, now=utcnow())

    agent = _run(_with_session(load_settings(), work, upgrade=False))
    _out(f"ok: disabled {agent.email}; their logins are revoked")
    return 0


def cmd_demo_seed(_args: argparse.Namespace) -> int:
    from chatdesk.accounts import service as accounts
    from chatdesk.clock import utcnow

    async def work(session: AsyncSession) -> list[tuple[str, str]]:
        return await accounts.ensure_demo_agents(session, now=utcnow())

    settings = load_settings()
    logins = _run(_with_session(settings, work, upgrade=True))
    _out("demo logins (for local demos only — never seed a public server):")
    for email, password in logins:
        _out(f"  {email}  password: {password}")
    return 0


# --- faq, version -------------------------------------------------------------------------


def cmd_faq_validate(args: argparse.Namespace) -> int:
    from chatdesk.bot.faq import FAQ_SUFFIXES, FaqValidationError, load_faq

    settings = load_settings()
    directory: Path = args.directory or settings.resolved_faq_dir()
    try:
        faq = load_faq(directory, languages=settings.languages)
    except FaqValidationError as exc:
        for problem in exc.problems:
            _out(str(problem), sys.stderr)
        plural = "s" if len(exc.problems) != 1 else ""
        _print_error(f"{len(exc.problems)} problem{plural} in the FAQ at {directory}")
        return 1
    files = sum(
        1
        for path in directory.rglob("*")
        if path.suffix.lower() in FAQ_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    _out(f"ok: {len(faq.entries)} entries in {files} files")
    return 0


def cmd_faq_schema(_args: argparse.Namespace) -> int:
    from chatdesk.bot.faq import faq_json_schema

    _out(json.dumps(faq_json_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_faq_test(args: argparse.Namespace) -> int:
    from chatdesk.bot.engine import BotEngine, format_test_report
    from chatdesk.bot.faq import FaqValidationError, load_faq

    settings = load_settings(faq_dir=args.faq_dir)
    directory = settings.resolved_faq_dir()
    try:
        faq = load_faq(directory, languages=settings.languages)
    except FaqValidationError as exc:
        raise ConfigError(
            f"the FAQ at {directory} is invalid: run `chatdesk faq validate {directory}`"
        ) from exc
    engine = BotEngine.build(faq, settings.bot_settings())
    _out(format_test_report(engine.ask(args.text, lang_hint=args.lang)))
    return 0


def cmd_version(_args: argparse.Namespace) -> int:
    _out(f"chatdesk {__version__}")
    return 0
