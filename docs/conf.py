"""Sphinx configuration for Telegraphy's documentation (built by `make docs`)."""

from __future__ import annotations

project = "Telegraphy"
author = "The Telegraphy authors"
copyright = "the Telegraphy authors"

# No extensions (and so no intersphinx): the build runs offline, with warnings as errors.
extensions: list[str] = []

root_doc = "index"
exclude_patterns = ["_build"]
default_role = "literal"
highlight_language = "none"
nitpicky = True

html_theme = "furo"
html_title = "Telegraphy"
html_show_sourcelink = False
