"""The pure routing modules stay free of I/O frameworks (style.md: imports point inward)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chatdesk.routing

FORBIDDEN = {"asyncio", "sqlalchemy", "fastapi", "redis", "websockets", "starlette", "uvicorn"}
PURE_MODULES = ["rules.py", "eta.py", "hours.py", "presence_rules.py"]
ROUTING_DIR = Path(chatdesk.routing.__file__).parent


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_routing_module_imports_no_io_framework(module: str) -> None:
    source = (ROUTING_DIR / module).read_text(encoding="utf-8")
    assert imported_roots(source) & FORBIDDEN == set()


def test_import_checker_sees_forbidden_imports() -> None:
    assert imported_roots("import asyncio\nfrom sqlalchemy.orm import Session\n") == {
        "asyncio",
        "sqlalchemy",
    }
