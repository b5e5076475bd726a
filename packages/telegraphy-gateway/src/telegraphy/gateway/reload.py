"""SIGHUP: the configuration file read again, and what a running gateway can change applied to
it without dropping a session; what needs a restart is logged and keeps its running value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from twisted.logger import Logger

from .config import GatewayConfig
from .errors import ConfigError
from .transport.tls import Certificate

if TYPE_CHECKING:
    from .server import Gateway

log = Logger()

RELOADABLE = (
    "allowed_origins",
    "public",
    "backends",
    "limits",
    "trusted_proxies",
    "metrics",
    "log_level",
    "tls",
)
"""The keys a reload applies; every other one needs a restart. `tls` reloads the certificate
files (they are read again on every reload); turning TLS on or off needs a restart."""


def merge(
    running: GatewayConfig, read: GatewayConfig
) -> tuple[GatewayConfig, list[str], list[str]]:
    """The configuration to run after a reload (the reloadable keys from `read`, the others
    from `running`), with the keys it changes and those that changed but need a restart."""
    changed = [
        f.name for f in fields(GatewayConfig) if getattr(running, f.name) != getattr(read, f.name)
    ]
    toggled_tls = (running.tls is None) != (read.tls is None)
    restart = [n for n in changed if n not in RELOADABLE or (n == "tls" and toggled_tls)]
    kept = {name: getattr(running, name) for name in restart}
    return replace(read, **kept), [n for n in changed if n not in restart], restart


class Reloader:
    """Reads the configuration with `load` and applies it to `gateway`; `set_log_level` is
    how this process filters its log."""

    def __init__(
        self,
        gateway: Gateway,
        load: Callable[[], GatewayConfig],
        set_log_level: Callable[[str], None],
    ) -> None:
        self._gateway = gateway
        self._load = load
        self._set_log_level = set_log_level

    def __call__(self) -> None:
        try:
            config, changed, restart = merge(self._gateway.config, self._load())
            tls = config.tls if self._gateway.tls is not None else None
            certificate = None if tls is None else Certificate(tls)
        except ConfigError as e:
            log.error(
                "configuration not reloaded, the running one is kept: {error}",
                error=str(e),
                event="config.not_reloaded",
            )
            return
        self._gateway.reconfigure(config, certificate)
        self._set_log_level(config.log_level)  # this reload's own lines obey the new level
        for name in restart:
            log.warn(
                "configuration: {key} changed, but takes a restart; the running value is kept",
                key=name,
                event="config.needs_restart",
            )
        log.info(
            "configuration reloaded: {changes}",
            changes=", ".join(changed) + " changed" if changed else "nothing to apply changed",
            changed=changed,
            needs_restart=restart,
            event="config.reloaded",
        )
        if certificate is not None:
            log.info(
                "TLS certificate reloaded: {certificate}",
                certificate=certificate.describe(),
                event="tls.reloaded",
            )
