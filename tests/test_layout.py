"""The monorepo's shape: namespace packages shared by the distributions, and public exports."""

from __future__ import annotations

import tomllib
from pathlib import Path

import telegraphy.core
import telegraphy.gateway

ROOT = Path(__file__).parents[1]
PACKAGES = sorted((ROOT / "packages").iterdir())


def test_telegraphy_and_contrib_are_namespace_packages_everywhere() -> None:
    for package in PACKAGES:
        src = package / "src" / "telegraphy"
        assert src.is_dir(), f"{package.name} has no src/telegraphy"
        assert not (src / "__init__.py").exists(), f"{package.name}: telegraphy/__init__.py"
        assert not (src / "contrib" / "__init__.py").exists(), (
            f"{package.name}: contrib/__init__.py"
        )


def test_each_package_has_its_own_version_and_typed_marker() -> None:
    for package in PACKAGES:
        project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
        assert project["version"], package.name
        assert list(package.glob("src/telegraphy/**/py.typed")), f"{package.name}: no py.typed"


def test_siblings_depend_on_compatible_ranges_not_pins() -> None:
    for package in PACKAGES:
        project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            if requirement.startswith("telegraphy-"):
                assert "==" not in requirement, f"{package.name} pins {requirement}"


def test_public_names_are_exported_sorted() -> None:
    for module in (telegraphy.core, telegraphy.gateway):
        assert module.__all__ == sorted(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)
    assert set(telegraphy.gateway.__all__) == {
        "Backend",
        "CannotListen",
        "ConfigError",
        "Gateway",
        "GatewayConfig",
        "GatewayError",
        "Limits",
        "__version__",
        "config_from_mapping",
        "load_config",
        "serve",
    }


def test_core_imports_no_web_framework_and_gateway_none_either() -> None:
    forbidden = ("django", "flask", "sqlalchemy")
    for src in ("telegraphy-core", "telegraphy-gateway"):
        for path in (ROOT / "packages" / src / "src").rglob("*.py"):
            text = path.read_text()
            for name in forbidden:
                assert f"import {name}" not in text and f"from {name}" not in text, path
