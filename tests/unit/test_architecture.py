"""The pure domain modules stay free of I/O frameworks (design: "Pure modules never import
fastapi, sqlalchemy, redis, websockets or asyncio"), checked on the source with ``ast``.

Imports are followed transitively inside ``chatdesk``: a pure module importing a chatdesk
module that imports asyncio is just as impure.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "chatdesk"
FORBIDDEN = frozenset(
    {"asyncio", "fastapi", "starlette", "sqlalchemy", "redis", "websockets", "uvicorn"}
)
PURE_MODULES = (
    "chatdesk.conversations.model",
    "chatdesk.conversations.values",
    "chatdesk.conversations.texts",
    "chatdesk.routing.rules",
    "chatdesk.routing.eta",
    "chatdesk.routing.hours",
    "chatdesk.routing.presence_rules",
    "chatdesk.channels.ratelimit",
    *sorted(
        f"chatdesk.bot.{path.stem}"
        for path in (PACKAGE / "bot").glob("*.py")
        if path.stem not in ("__init__", "reload")
    ),
)


def module_path(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (SRC / relative.with_suffix(".py"), SRC / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str) -> set[str]:
    """Absolute names of every module ``module`` imports (anywhere in the file)."""
    path = module_path(module)
    assert path is not None, f"{module} not found"
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def forbidden_imports(module: str) -> list[str]:
    """``importer -> forbidden`` chains found by following chatdesk imports from ``module``."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in imported_modules(current):
            if name.split(".")[0] in FORBIDDEN:
                found.append(f"{current} -> {name}")
            elif name.startswith("chatdesk") and module_path(name) is not None:
                todo.append(name)
    return sorted(set(found))


def test_pure_module_list_covers_the_bot_package() -> None:
    assert "chatdesk.bot.matcher" in PURE_MODULES
    assert "chatdesk.bot.reload" not in PURE_MODULES
    for module in PURE_MODULES:
        assert module_path(module) is not None, module


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_io_framework(module: str) -> None:
    assert forbidden_imports(module) == []


def test_checker_catches_an_io_import() -> None:
    """The checker itself works: a known I/O module is reported."""
    assert forbidden_imports("chatdesk.storage.message_writer")
    assert forbidden_imports("chatdesk.bot.reload")
