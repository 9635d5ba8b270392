"""The client's address for limits and audit: forwarded headers only from trusted proxies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from cordon.config import Settings
from cordon.web.deps import client_addr, forwarded_client, trusted_networks


def _request(peer: str, forwarded: str | None, proxies: str) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings(trusted_proxies=proxies)))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": (peer, 5000),
        "app": app,
    }
    return Request(scope)


def test_a_forged_header_is_ignored_by_default_even_from_loopback() -> None:
    assert client_addr(_request("127.0.0.1", "203.0.113.9", "")) == "127.0.0.1"
    assert client_addr(_request("198.51.100.7", "203.0.113.9", "")) == "198.51.100.7"


def test_a_configured_proxy_is_believed_and_only_its_own_hop() -> None:
    proxies = "10.0.0.0/8, 127.0.0.1"
    assert client_addr(_request("10.1.2.3", "203.0.113.9", proxies)) == "203.0.113.9"
    # The client wrote the left part itself; the proxy appended the address it saw.
    assert client_addr(_request("10.1.2.3", "1.2.3.4, 203.0.113.9", proxies)) == "203.0.113.9"
    # Through two proxies of ours: the first untrusted hop from the right.
    assert (
        forwarded_client("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.2", trusted_networks(proxies))
        == "203.0.113.9"
    )
    # A peer that is not a proxy cannot forward for anyone.
    assert client_addr(_request("198.51.100.7", "203.0.113.9", proxies)) == "198.51.100.7"


def test_a_wrong_proxy_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"CORDON_TRUSTED_PROXIES: 'proxy\.example' is not"):
        trusted_networks("10.0.0.1, proxy.example")
