"""Fixtures that several integration modules share (the suite-wide ones are in tests/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.redis_server import PrivateRedis, private_redis_server


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    """A ``redis-server`` of this test's own, free to be killed, frozen and restarted."""
    async with private_redis_server(tmp_path) as server:
        yield server
