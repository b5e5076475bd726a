"""The quickstarts of docs/django.rst and docs/flask.rst, followed as a newcomer would.

The four packages are built into wheels and installed into a fresh virtualenv (offline: our
wheels plus the dependencies `make bootstrap` downloads into .venv/wheelhouse); a new Django
project and a new Flask app are made in a temporary directory outside the repository from the
files under docs/quickstart/ (the files the pages include); the gateway and the app run as
the pages say; headless Chromium opens the page and sees a model change made in the app's
shell arrive live.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright
import pytest

from gateway_command import free_port, health

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "docs" / "quickstart"
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
PACKAGES = ("telegraphy-core", "telegraphy-gateway", "django-telegraphy", "flask-telegraphy")
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser"))
DOCS_GATEWAY_URL = "http://127.0.0.1:9000"
START_TIMEOUT = 60.0
WAIT_MS = 15_000
INSTALL = {  # what each page's first step installs
    "django": ['"django-telegraphy[gateway]"'],
    "flask": ['"flask-telegraphy[gateway]"', "flask-sqlalchemy"],
}


def run(command: Sequence[str | Path], cwd: Path, env: dict[str, str], **kw: Any) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, **kw
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def serving(url: str, process: subprocess.Popen[str]) -> bool:
    if process.poll() is not None:
        return False
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def running(
    command: Sequence[str | Path], cwd: Path, env: dict[str, str], url: str
) -> Iterator[None]:
    """Run `command` until the block ends, once `url` answers 200 (a bounded wait)."""
    process = subprocess.Popen(
        [str(c) for c in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not serving(url, process) and process.poll() is None:
            assert time.monotonic() < deadline, f"{url} did not answer in {START_TIMEOUT} s"
            time.sleep(0.1)  # polling for readiness, with a deadline
        assert process.poll() is None, f"{command} exited"
        yield
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with both quickstarts' installs, from wheels built just now."""
    assert WHEELHOUSE.is_dir(), "no .venv/wheelhouse: run `make bootstrap` (it downloads it)"
    wheels = tmp_path_factory.mktemp("wheels")
    for package in PACKAGES:
        run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", wheels, "."],
            cwd=ROOT / "packages" / package,
            env=dict(os.environ),
        )
    target = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", target], cwd=target, env=dict(os.environ))
    requirements = [r.strip('"') for rs in INSTALL.values() for r in rs]
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        target / "bin" / "python",
        "install",
        "-q",
        "--no-compile",
    ]
    offline = ["--no-index", "--find-links", wheels, "--find-links", WHEELHOUSE]
    run([*pip, *offline, *requirements], cwd=target, env=dict(os.environ))
    return target


def clean_env(venv: Path) -> dict[str, str]:
    """What a newcomer's shell has: the virtualenv on PATH, nothing of this repository's."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(venv),
    }


def copy_quickstart(part: str, project: Path, gateway_port: int) -> None:
    """Copy docs/quickstart/<part> over `project`, on a free gateway port instead of 9000."""
    for source in (QUICKSTART / part).rglob("*"):
        if source.is_file():
            target = project / source.relative_to(QUICKSTART / part)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text().replace(DOCS_GATEWAY_URL, f"http://127.0.0.1:{gateway_port}")
            target.write_text(text)


def sees_change_live(browser: Any, url: str, make_change: Any) -> list[str]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # In debug mode (the Django quickstart's DEBUG = True) the client warns about a refused
    # subscription or an event name the app does not define.
    page.on("console", lambda m: errors.append(m.text) if m.text.startswith("Telegraphy") else None)
    page.goto(url)
    make_change()
    page.wait_for_selector("#event_catcher li", timeout=WAIT_MS)
    assert errors == []
    lines: list[str] = page.locator("#event_catcher li").all_inner_texts()
    return lines


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM, "the quickstart tests need Chromium: apt-get install chromium"
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def test_the_pages_install_what_the_test_installs() -> None:
    for part, requirements in INSTALL.items():
        page = (ROOT / "docs" / f"{part}.rst").read_text()
        assert f"pip install {' '.join(requirements)}" in page, part


def test_the_pages_include_every_quickstart_file() -> None:
    for part in INSTALL:
        page = (ROOT / "docs" / f"{part}.rst").read_text()
        for source in (QUICKSTART / part).rglob("*.*"):
            include = f".. literalinclude:: quickstart/{source.relative_to(QUICKSTART)}"
            assert include in page, f"{part}.rst does not include {source}"


def test_django_quickstart_from_wheels(venv: Path, browser: Any, tmp_path: Path) -> None:
    env = clean_env(venv)
    python = venv / "bin" / "python"
    run([venv / "bin" / "django-admin", "startproject", "mysite", "."], tmp_path, env)
    run([python, "manage.py", "startapp", "myapp"], tmp_path, env)
    port, web = free_port(), free_port()
    copy_quickstart("django", tmp_path, port)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + (tmp_path / "mysite" / "settings_telegraphy.py").read_text()
    )
    run([python, "manage.py", "makemigrations", "myapp"], tmp_path, env)
    run([python, "manage.py", "migrate"], tmp_path, env)
    shell = (tmp_path / "shell.py").read_text()

    def make_change() -> None:
        run([python, "manage.py", "shell"], tmp_path, env, input=shell)

    with (
        running(
            [python, "manage.py", "run_telegraph"], tmp_path, env, f"http://127.0.0.1:{port}/health"
        ),
        running(
            [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web}"],
            tmp_path,
            env,
            f"http://127.0.0.1:{web}/",
        ),
    ):
        lines = sees_change_live(browser, f"http://127.0.0.1:{web}/", make_change)
        assert health(port) is not None
    assert lines == ["create Hello, Telegraphy"]


def test_flask_quickstart_from_wheels(venv: Path, browser: Any, tmp_path: Path) -> None:
    env = clean_env(venv)
    flask = [venv / "bin" / "flask", "--app", "myapp"]
    port, web = free_port(), free_port()
    copy_quickstart("flask", tmp_path, port)
    shell = (tmp_path / "shell.py").read_text()

    def make_change() -> None:
        run([*flask, "shell"], tmp_path, env, input=shell)

    with (
        running([*flask, "telegraphy", "run"], tmp_path, env, f"http://127.0.0.1:{port}/health"),
        running([*flask, "run", "--port", str(web)], tmp_path, env, f"http://127.0.0.1:{web}/"),
    ):
        lines = sees_change_live(browser, f"http://127.0.0.1:{web}/", make_change)
    assert lines == ["create Hello, Telegraphy"]
