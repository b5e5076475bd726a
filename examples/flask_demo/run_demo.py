"""`make demo-flask`: create the database, run the gateway and Flask together.

Ctrl-C stops both. Usage:
    python examples/flask_demo/run_demo.py [--port 5000] [--gateway-port 9000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30.0


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "flask_demo", *args]


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
    # SIGTERM, not SIGINT: a process started with SIGINT ignored (in the background) keeps
    # ignoring it. The gateway stops as gracefully on either.
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (or SIGINT, even if inherited ignored) stops both


def main() -> int:
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000, help="Flask's port")
    parser.add_argument("--gateway-port", type=int, default=9000, help="the gateway's port")
    args = parser.parse_args()
    env = {**os.environ, "FLASK_DEMO_GATEWAY_PORT": str(args.gateway_port)}
    # The tables are made once here (create_app makes them), before both processes start.
    os.environ["FLASK_DEMO_GATEWAY_PORT"] = str(args.gateway_port)
    sys.path.insert(0, str(HERE))
    from flask_demo import create_app

    create_app()
    gateway = subprocess.Popen(
        flask("telegraphy", "run", "--port", str(args.gateway_port)), cwd=HERE, env=env
    )
    server = subprocess.Popen(
        flask("run", "--no-reload", "--port", str(args.port)), cwd=HERE, env=env
    )
    processes = [gateway, server]
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
    return (
        f"\nTelegraphy Flask demo running:\n"
        f"  Open   http://127.0.0.1:{port}/demo/editor/   (edit on one side, watch the other)\n"
        f"  or     http://127.0.0.1:{port}/demo/change_tracker/   (the live change tracker)\n"
        f"  and    http://127.0.0.1:{port}/demo/models/   to create, change and delete MyModels\n"
        f"  Gateway ws://127.0.0.1:{gateway_port}/ws (health: /health)\n"
        f"  Ctrl-C stops both.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
