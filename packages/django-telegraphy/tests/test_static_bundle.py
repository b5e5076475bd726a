"""The JS client ships inside the package: the copy served as a static file is the built one."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BUILT = ROOT / "js" / "dist" / "telegraphy.min.js"
SHIPPED = (
    ROOT
    / "packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy/static/telegraphy"
    / "telegraphy.min.js"
)


def test_the_shipped_bundle_defines_the_script_tag_api() -> None:
    text = SHIPPED.read_text()
    assert "TELEGRAPHY_CONFIG" in text and "configure" in text and "register" in text


def test_the_shipped_bundle_is_the_built_one() -> None:
    assert BUILT.exists(), "js/dist is not built: cd js && npm ci && npm run build"
    assert SHIPPED.read_bytes() == BUILT.read_bytes(), "run `make ship-js` to ship the new build"


def test_the_htmx_extension_ships_beside_it() -> None:
    built, shipped = (p.with_name("telegraphy-htmx.js") for p in (BUILT, SHIPPED))
    assert shipped.read_bytes() == built.read_bytes(), "run `make ship-js` to ship the new build"
