"""The same realm, users and permissions, written in each router's configuration format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .settings import BACKEND_AUTHID, BACKEND_SECRET, HOST, PUBLIC_PREFIX, REALM

# Generous, so that a benchmark measures routing rather than the gateway's protective limits.
TELEGRAPHY_MAX_OUTPUT_BUFFER = 64 * 1024 * 1024
# Every benchmark client connects from this host: the per-address limits must not refuse them.
TELEGRAPHY_PER_ADDRESS_LIMITS = (
    "max_connections_per_ip = 1000000\n"
    "max_handshakes_per_second = 1000000\n"
    "max_ingress_requests_per_second = 1000000\n"
    "max_messages_per_second = 1000000\n"
)


def _crossbar_permission(uri: str, *, publish: bool, call: bool) -> dict[str, Any]:
    return {
        "uri": uri,
        "match": "prefix",
        "allow": {"call": call, "register": call, "publish": publish, "subscribe": True},
        "disclose": {"caller": False, "publisher": False},
        "cache": True,
    }


def crossbar_config(port: int) -> dict[str, Any]:
    """One router worker, one web transport serving /ws (WAMP) and /health."""
    health = {"type": "json", "value": {"status": "ok"}}
    websocket = {
        "type": "websocket",
        "serializers": ["json", "msgpack"],
        "options": {"auto_ping_interval": 0, "max_message_size": 1048576},
        "auth": {
            "wampcra": {
                "type": "static",
                "users": {BACKEND_AUTHID: {"secret": BACKEND_SECRET, "role": "backend"}},
            },
            "anonymous": {"type": "static", "role": "anonymous"},
        },
    }
    roles = [
        {"name": "backend", "permissions": [_crossbar_permission("", publish=True, call=True)]},
        {
            "name": "anonymous",
            "permissions": [_crossbar_permission(PUBLIC_PREFIX, publish=False, call=False)],
        },
    ]
    transport = {
        "type": "web",
        "endpoint": {"type": "tcp", "interface": HOST, "port": port, "backlog": 1024},
        "paths": {"/": health, "health": health, "ws": websocket},
    }
    worker = {
        "type": "router",
        "realms": [{"name": REALM, "roles": roles}],
        "transports": [transport],
    }
    return {"version": 2, "controller": {}, "workers": [worker]}


def write_crossbar_config(workdir: Path, port: int) -> Path:
    """Writes workdir/.crossbar/config.json and returns the node directory."""
    node_dir = workdir / ".crossbar"
    node_dir.mkdir(parents=True, exist_ok=True)
    (node_dir / "config.json").write_text(json.dumps(crossbar_config(port), indent=2))
    return node_dir


def telegraphy_config(extra: str = "") -> str:
    """`extra` is appended as is: more TOML tables (e.g. [engine] and [history])."""
    return (
        f'realm = "{REALM}"\n'
        f'public = [{{uri = "{PUBLIC_PREFIX}", match = "prefix"}}]\n'
        "\n"
        "[[backends]]\n"
        f'authid = "{BACKEND_AUTHID}"\n'
        f'secret = "{BACKEND_SECRET}"\n'
        "\n"
        "[limits]\n"
        f"max_output_buffer = {TELEGRAPHY_MAX_OUTPUT_BUFFER}\n"
        + TELEGRAPHY_PER_ADDRESS_LIMITS
        + (f"\n{extra}" if extra else "")
    )


def write_telegraphy_config(workdir: Path, extra: str = "") -> Path:
    path = workdir / "gateway.toml"
    path.write_text(telegraphy_config(extra))
    return path
