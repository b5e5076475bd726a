"""The nginx configuration of docs/deployment.rst ("Several gateways"), run with Debian's
nginx in front of three gateways joined through Redis: browsers' WebSockets reach every
gateway through it, and a client whose gateway is killed reconnects through nginx to another,
resumes its client record there and recovers what it missed."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from ingress_posts import event, post
from redis_server import RedisServer
from test_docs_delivery import code_blocks
from test_scale_out import ORDER, Cluster
from ticket_peers import ticket_join, token

from gateway_command import free_port, health
from gateway_harness import GatewayProcess, eventually
from raw_wamp import EVENT, SUBSCRIBE, SUBSCRIBED

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx in the foreground with the page's upstream and server blocks, its gateways'
    ports and a free port put in place of the page's."""

    def __init__(self, directory: Path, gateways: list[GatewayProcess]) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is not installed: `apt-get install nginx` (Debian)")
        (block,) = code_blocks("deployment.rst", "nginx")[-1:]
        self.port = free_port()
        for documented, gateway in zip((9001, 9002, 9003), gateways, strict=True):
            block = block.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{gateway.port}")
        block = block.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        config = directory / "nginx.conf"
        config.write_text(
            f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log info;\n"
            "events {}\n"
            f"http {{\naccess_log {directory}/access.log;\n"
            f"client_body_temp_path {directory}/body;\nproxy_temp_path {directory}/proxy;\n"
            f"{block}\n}}\n"
        )
        self.directory = directory
        self.process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while not (directory / "nginx.pid").exists():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=10)


@pytest.fixture
def behind_nginx(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[Cluster, Nginx]]:
    cluster = Cluster(tmp_path, redis_server, 3)
    nginx = Nginx(tmp_path, cluster.gateways)
    yield cluster, nginx
    nginx.stop()
    output = cluster.stop()
    assert "Traceback" not in output, output


def sessions_per_gateway(cluster: Cluster) -> list[int]:
    return [(health(g.port) or {}).get("sessions", 0) for g in cluster.gateways]


@pytest_twisted.ensureDeferred
async def test_browsers_reach_every_gateway_through_nginx_and_survive_losing_theirs(
    behind_nginx: tuple[Cluster, Nginx],
) -> None:
    cluster, nginx = behind_nginx
    clients = [await ticket_join(nginx.url, token(f"user-{n}", events=("shop.Order",)))
               for n in range(6)]  # fmt: skip
    for client in clients:
        answer = await client.request(SUBSCRIBE, 1, {}, ORDER)
        assert answer[0] == SUBSCRIBED, answer
    # nginx spreads them: every gateway holds some (round robin over three).
    assert all(count >= 1 for count in sessions_per_gateway(cluster)), nginx.log()

    assert post(cluster.gateways[0].port, "/ingress/event", event(1))[0] == 200
    first = [await client.expect(EVENT) for client in clients]
    assert {e[4][0]["data"]["n"] for e in first} == {1}

    # Kill the gateway holding the most of them: nginx closes their connections.
    counts = sessions_per_gateway(cluster)
    cluster.kill(cluster.gateways[counts.index(max(counts))])
    await eventually(lambda: sum(c.is_closed for c in clients) == max(counts))
    assert post(cluster.gateways[0].port, "/ingress/event", event(2))[0] == 200

    received = []
    for client, seen in zip(clients, first, strict=True):
        if not client.is_closed:
            received.append((await client.expect(EVENT))[4][0]["data"]["n"])
            await client.leave()
            continue
        # Back through nginx, to another gateway: the same client record, what it missed.
        position = {"offset": seen[3]["offset"], "epoch": seen[3]["epoch"]}
        resumed = await ticket_join(
            nginx.url,
            "",
            previous=client.details["authextra"]["client_id"],
            recover={"positions": {ORDER: position}},
        )
        assert resumed.details["authextra"]["resumed"] is True
        replay = await resumed.expect(EVENT)
        report = await resumed.expect(EVENT)
        assert replay[3].get("recovered") is True
        assert report[3]["recovery"][0]["gap"] is None
        received.append(replay[4][0]["data"]["n"])
        await resumed.leave()

    assert received == [2] * len(clients), nginx.log()
