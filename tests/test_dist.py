"""`make dist`: what a release would upload, with the license, the changelog, the project's
addresses and, in the adapters' wheels, the browser client."""

from __future__ import annotations

import json
import subprocess
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("telegraphy-core", "telegraphy-gateway", "django-telegraphy", "flask-telegraphy")
VERSION = "0.1.0"
BUNDLE = (ROOT / "js" / "dist" / "telegraphy.min.js").read_bytes()
SHIPPED = {
    "django-telegraphy": "telegraphy/contrib/django_telegraphy/static/telegraphy/telegraphy.min.js",
    "flask-telegraphy": "telegraphy/contrib/flask_telegraphy/static/telegraphy.min.js",
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # -o: the test uses the installed venv as it is; `make test` bootstraps it first.
    subprocess.run(
        ["make", "-s", "-o", ".venv/.stamp-installed", "dist", f"DIST={out}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def wheel_name(package: str) -> str:
    return f"{package.replace('-', '_')}-{VERSION}-py3-none-any.whl"


def test_dist_holds_a_wheel_and_an_sdist_per_package_and_the_npm_tarball(dist: Path) -> None:
    expected = {f"telegraphy-js-{VERSION}.tgz"}
    for package in PACKAGES:
        expected |= {wheel_name(package), f"{package.replace('-', '_')}-{VERSION}.tar.gz"}
    assert {p.name for p in dist.iterdir()} == expected


HTMX_EXTENSION = (ROOT / "js" / "dist" / "telegraphy-htmx.js").read_bytes()


def test_the_adapters_wheels_carry_the_built_js_client(dist: Path) -> None:
    for package, path in SHIPPED.items():
        extension = path.replace("telegraphy.min.js", "telegraphy-htmx.js")
        with zipfile.ZipFile(dist / wheel_name(package)) as wheel:
            assert wheel.read(path) == BUNDLE, f"{package}: run `make ship-js`"
            assert wheel.read(extension) == HTMX_EXTENSION, f"{package}: run `make ship-js`"


def test_every_wheel_has_the_license_and_the_project_urls(dist: Path) -> None:
    for package in PACKAGES:
        info = f"{package.replace('-', '_')}-{VERSION}.dist-info"
        with zipfile.ZipFile(dist / wheel_name(package)) as wheel:
            assert wheel.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
            metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        assert metadata["License-Expression"] == "MIT"
        urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
        assert {"Homepage", "Documentation", "Source", "Changelog", "Issues"} <= set(urls)


def test_every_sdist_and_the_npm_tarball_has_the_license_and_the_changelog(dist: Path) -> None:
    archives = {
        f"{p.replace('-', '_')}-{VERSION}.tar.gz": f"{p.replace('-', '_')}-{VERSION}"
        for p in PACKAGES
    }
    archives[f"telegraphy-js-{VERSION}.tgz"] = "package"
    for archive, top in archives.items():
        with tarfile.open(dist / archive) as tar:
            names = set(tar.getnames())
            assert {f"{top}/LICENSE", f"{top}/CHANGELOG.md"} <= names, archive
            license_file = tar.extractfile(f"{top}/LICENSE")
            assert (
                license_file is not None and license_file.read() == (ROOT / "LICENSE").read_bytes()
            )


def test_each_changelog_has_an_unreleased_section_and_its_package_version() -> None:
    versions = {
        ROOT / "packages" / p / "CHANGELOG.md": tomllib.loads(
            (ROOT / "packages" / p / "pyproject.toml").read_text()
        )["project"]["version"]
        for p in PACKAGES
    }
    versions[ROOT / "js" / "CHANGELOG.md"] = json.loads((ROOT / "js" / "package.json").read_text())[
        "version"
    ]
    for changelog, version in versions.items():
        text = changelog.read_text()
        assert "\n## Unreleased\n" in text and f"\n## {version}\n" in text, changelog


def test_each_package_ships_the_root_license() -> None:
    for directory in [ROOT / "packages" / p for p in PACKAGES] + [ROOT / "js"]:
        assert (directory / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes(), directory
