"""Sphinx configuration for Telegraphy's documentation (built by `make docs`)."""

from __future__ import annotations

from typing import Any

project = "Telegraphy"
author = "The Telegraphy authors"
copyright = "the Telegraphy authors"

# No intersphinx: the build runs offline, with warnings as errors.
extensions = ["sphinx.ext.autodoc"]

root_doc = "index"
exclude_patterns = ["_build"]
default_role = "literal"
# Code blocks without a language are highlighted as Python when they parse as Python (shell
# commands mostly do), else shown plain, without a warning.
highlight_language = "default"
nitpicky = True

html_theme = "furo"
html_title = "Telegraphy"
html_show_sourcelink = False

# The API reference (api.rst): signatures without annotations, whose types (Mapping, Callable,
# the private modules' aliases) would be references nothing resolves offline; the docstrings
# and the guides say what each argument is.
autodoc_typehints = "none"
autodoc_member_order = "bysource"


def _no_builtin_docstrings(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    # A constant's own docstring is its type's ("str(object='') -> str"): api.rst says instead.
    if what == "data":
        lines.clear()


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", _no_builtin_docstrings)
