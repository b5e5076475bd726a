"""`make demo`: migrate, create the demo users, run the gateway and Django together.

Ctrl-C stops both. Usage:
    python examples/django_demo/run_demo.py [--port 8000] [--gateway-port 9000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE = (
    HERE.parents[1]
    / "packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy/static/telegraphy"
    / "telegraphy.min.js"
)
USERS = (("demo", "demo-password", True), ("guest", "guest-password", False))
START_TIMEOUT = 30.0

CREATE_USERS = """
from django.contrib.auth.models import User
for name, password, admin in {users!r}:
    user = User.objects.filter(username=name).first() or User(username=name)
    user.is_staff = user.is_superuser = admin
    user.set_password(password)
    user.save()
"""


def manage(*args: str) -> list[str]:
    return [sys.executable, str(HERE / "manage.py"), *args]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not answers(url):
        if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            raise SystemExit(f"demo: {url} did not answer; see the output above")
        time.sleep(0.2)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops both processes as Ctrl-C does


def main() -> int:
    signal.signal(signal.SIGTERM, interrupted)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="Django's port")
    parser.add_argument("--gateway-port", type=int, default=9000, help="the gateway's port")
    args = parser.parse_args()
    env = {**os.environ, "TELEGRAPHY_DEMO_GATEWAY_PORT": str(args.gateway_port)}
    subprocess.run(manage("migrate", "--noinput", "-v", "0"), env=env, check=True)
    script = CREATE_USERS.format(users=USERS)
    subprocess.run(manage("shell", "-v", "0", "-c", script), env=env, check=True)
    if not BUNDLE.exists():
        print("demo: the JS client is not built yet (make ship-js): pages will not be live")
    gateway = subprocess.Popen(manage("run_telegraph", "--port", str(args.gateway_port)), env=env)
    django = subprocess.Popen(manage("runserver", "--noreload", f"127.0.0.1:{args.port}"), env=env)
    processes = [gateway, django]
    try:
        wait_for(f"http://127.0.0.1:{args.gateway_port}/health", processes)
        wait_for(f"http://127.0.0.1:{args.port}/", processes)
        print(banner(args.port, args.gateway_port), flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop(processes)
    return 0


def banner(port: int, gateway_port: int) -> str:
    users = "\n".join(
        f"    {name} / {password}{'  (admin)' if admin else ''}" for name, password, admin in USERS
    )
    pages = json.dumps(
        [
            "/demo/editor/",
            "/demo/simple/",
            "/demo/change_tracker/",
            "/demo/notifications/",
            "/demo/chat/",
        ]
    )
    return (
        f"\nTelegraphy demo running:\n"
        f"  Open   http://127.0.0.1:{port}/   (pages: {pages})\n"
        f"  Admin  http://127.0.0.1:{port}/admin/  to create, change and delete MyModels\n"
        f"  Users (username / password):\n{users}\n"
        f"  Gateway ws://127.0.0.1:{gateway_port}/ws (health: /health)\n"
        f"  Ctrl-C stops both.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
