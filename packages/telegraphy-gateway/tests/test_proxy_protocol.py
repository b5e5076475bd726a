"""`proxy_protocol = true`: behind a load balancer that speaks the PROXY protocol, every
connection starts with a header naming the client, and the gateway counts each client as the
one named (the per-address limits); a connection without the header is closed."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from raw_socket import connect, read_to_end

from conftest import config_with_limits
from gateway_command import free_port, wait_for
from gateway_harness import WAIT


def proxied(port: int, client: str) -> socket.socket:
    """A connection as a load balancer makes it: the PROXY v1 header first."""
    sock = connect(port)
    sock.sendall(f"PROXY TCP4 {client} 127.0.0.1 40000 {port}\r\n".encode())
    return sock


V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxied_v2(port: int, client: str) -> socket.socket:
    """The same in the binary PROXY v2 header (TCP over IPv4 or IPv6, by the address)."""
    sock = connect(port)
    ipv6 = ":" in client
    family, size = (socket.AF_INET6, 16) if ipv6 else (socket.AF_INET, 4)
    source = socket.inet_pton(family, client)
    target = socket.inet_pton(family, "::1" if ipv6 else "127.0.0.1")
    addresses = source + target + struct.pack("!HH", 40000, port)
    header = V2_SIGNATURE + bytes([0x21, 0x21 if ipv6 else 0x11])  # v2 PROXY; TCP6 or TCP4
    sock.sendall(header + struct.pack("!H", 2 * size + 4) + addresses)
    return sock


def health(sock: socket.socket, close: bool = True) -> int:
    connection = "close" if close else "keep-alive"
    sock.sendall(f"GET /health HTTP/1.1\r\nHost: x\r\nConnection: {connection}\r\n\r\n".encode())
    if close:
        return int(read_to_end(sock).split()[1])
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    return int(head.split()[1])


def answers(port: int) -> bool:
    try:
        with proxied(port, "192.0.2.1") as sock:
            return health(sock) == 200
    except OSError:
        return False


@pytest.fixture
def gateway_port(tmp_path: Path) -> Iterator[int]:
    config = tmp_path / "telegraphy.toml"
    config.write_text("proxy_protocol = true\n" + config_with_limits(max_connections_per_ip=1))
    port = free_port()
    log = open(tmp_path / "gateway.log", "w+b")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "telegraphy.gateway", "--config", str(config), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        wait_for(lambda: answers(port) or process.poll() is not None, "the gateway", WAIT)
        assert process.poll() is None, (tmp_path / "gateway.log").read_text()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
    output = (tmp_path / "gateway.log").read_text()
    assert "Traceback" not in output, output


def test_each_connection_counts_as_the_client_its_proxy_header_names(gateway_port: int) -> None:
    with proxied(gateway_port, "203.0.113.7") as held:
        assert health(held, close=False) == 200  # kept open: 203.0.113.7 has its one
        with proxied(gateway_port, "203.0.113.7") as again:
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            refused = read_to_end(again)
        with proxied(gateway_port, "203.0.113.8") as other:
            other_status = health(other)
    assert refused.startswith(b"HTTP/1.1 429 ") and b"connections_per_ip" in refused, refused
    assert other_status == 200


def test_a_connection_without_the_header_is_closed_unanswered(gateway_port: int) -> None:
    with connect(gateway_port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_to_end(sock) == b""


@pytest.mark.parametrize("client", ["203.0.113.9", "2001:db8::9"])
def test_the_binary_v2_header_names_the_client_too(gateway_port: int, client: str) -> None:
    with proxied_v2(gateway_port, client) as held:
        assert health(held, close=False) == 200
        with proxied_v2(gateway_port, client) as again:
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            refused = read_to_end(again)
        # Another client in a v2 header is its own: the header's address, not the proxy's.
        other_client = "2001:db8::10" if ":" in client else "203.0.113.10"
        with proxied_v2(gateway_port, other_client) as other:
            other_status = health(other)
    assert refused.startswith(b"HTTP/1.1 429 ") and b"connections_per_ip" in refused, refused
    assert other_status == 200
