"""`websession demo` over HTTP: each client sees only its own cookies, other hosts are refused.

Issue 9: the demo showed every client the Set-Cookie headers of the last responses to anyone
(`/` and `/debug`), so whoever could reach it took over other sessions; and it answered any
``Host``, so a web page could reach it through DNS rebinding.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.support.live import Browser, free_port, serve


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    argv = [sys.executable, "-m", "websession", "demo", "--port", str(port), "--dir", str(folder)]
    with serve(argv, port) as url:
        yield url


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_a_client_never_sees_another_clients_cookies(demo: str) -> None:
    alice, bob = Browser(demo), Browser(demo)
    bob.get("/")
    token = _csrf(alice.get("/").text)
    response = alice.post("/login", {"csrf": token, "username": "alice", "remember": "1"})
    assert response.status_code == 303
    alice_auth = alice.cookies["auth"]
    alice_prefs = alice.cookies["prefs"]

    for path in ("/", "/debug"):
        page = bob.get(path).text
        assert alice_auth not in page
        assert alice_prefs not in page
        assert "alice" not in page
    # Alice herself still sees the cookies her own last responses set
    assert alice_auth in alice.get("/debug").text
    assert "alice" in alice.get("/").text


@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:{port}", "", "localhost.evil"]
)
def test_a_request_for_another_host_is_refused(demo: str, host: str) -> None:
    port = demo.rsplit(":", 1)[1]
    headers = {"Host": host.format(port=port)}
    response = httpx.get(demo + "/", headers=headers)
    assert response.status_code == 421
    assert "set-cookie" not in response.headers  # no session was even read
    assert "DNS rebinding" in response.text


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST", "[::1]:{port}"]
)
def test_the_served_host_and_ip_literals_are_answered(demo: str, host: str) -> None:
    port = demo.rsplit(":", 1)[1]
    response = httpx.get(demo + "/", headers={"Host": host.format(port=port)})
    assert response.status_code == 200


def test_host_check_rules() -> None:
    from websession.demo.app import host_allowed

    assert host_allowed("myhost.lan:8000", ["myhost.lan"])
    assert host_allowed("MyHost.Lan.", ["myhost.lan"])
    assert host_allowed("10.1.2.3:80", [])
    assert host_allowed("[fe80::1]:80", [])
    assert not host_allowed("myhost.lan.evil:80", ["myhost.lan"])
    assert not host_allowed("[not-an-ip]:80", ["localhost"])
    assert not host_allowed(":80", ["localhost"])
