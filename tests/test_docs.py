"""The documentation's shape: Getting started first, the API reference complete, user pages in
the users' words. (`make docs` builds it with warnings as errors.)"""

from __future__ import annotations

import re
from pathlib import Path

import telegraphy.core

DOCS = Path(__file__).resolve().parents[1] / "docs"


def toctree_entries(index: str) -> list[str]:
    return re.findall(r"^   ([a-z-]+)$", index, flags=re.MULTILINE)


def test_getting_started_comes_first_then_guides_then_reference() -> None:
    index = (DOCS / "index.rst").read_text()
    captions = re.findall(r":caption: (.+)", index)
    assert captions == ["Getting started", "Guides", "Reference"]
    entries = toctree_entries(index)
    assert entries[:3] == ["getting-started", "install", "django"]
    assert {"deployment", "troubleshooting", "api"} <= set(entries)
    on_disk = {p.stem for p in DOCS.glob("*.rst")} - {"index"}
    assert set(entries) == on_disk, "every page is in the table of contents, once"


def test_the_api_reference_documents_every_constant_the_automodule_leaves_out() -> None:
    api = (DOCS / "api.rst").read_text()
    documented = set(re.findall(r"autodata:: telegraphy\.core\.(\w+)", api))
    constants = {
        name for name in telegraphy.core.__all__ if not callable(getattr(telegraphy.core, name))
    }
    assert documented == constants


def test_user_pages_do_not_speak_of_seeds() -> None:
    pages = [*DOCS.glob("*.rst"), DOCS.parent / "README.md"]
    for page in pages:
        assert not re.search(r"\bseeds?\b", page.read_text(), flags=re.IGNORECASE), page.name
