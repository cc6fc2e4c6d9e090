"""Replaces aiohttp-session's tests/conftest.py, whose fixtures start Redis and Memcached in
Docker (the Redis and Memcached storage tests are not run here): the ``aiohttp_client``
fixture its other tests use, as pytest-aiohttp defines it, over aiohttp's own test utilities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer


@pytest.fixture
async def aiohttp_client() -> AsyncIterator[Callable[[web.Application], Awaitable[TestClient]]]:
    clients: list[TestClient] = []

    async def make(app: web.Application) -> TestClient:
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
