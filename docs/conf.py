"""Sphinx configuration of the tbp-gbdt documentation site.

Build it as CI does (warnings are errors; the output goes outside the repository):
`python -m sphinx -W --keep-going -b html docs "$(mktemp -d)"`.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The repository root, so that autodoc and the features page import the project's packages
# from this checkout; _ext holds this site's own Sphinx extension.
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

project = "tbp-gbdt"
author = "the tbp-gbdt authors"
copyright = "the tbp-gbdt authors"

extensions = [
    "myst_nb",  # MyST Markdown pages and the notebooks (it brings myst_parser with it)
    "sphinx.ext.autodoc",
    "feature_list",  # the features page's list, from the registry (docs/_ext/feature_list.py)
    "flag_params",  # each parameter's line, from its command flag's help (docs/_ext/flag_params.py)
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# _generated/ holds pages included into others, not pages of their own.
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

myst_enable_extensions = ["colon_fence", "deflist"]
# Links such as [text](training.md#what-a-run-writes) resolve to a page's headings.
myst_heading_anchors = 3

# Every notebook runs at every build, in a fresh temporary folder (so it writes nothing into
# the repository), and a failing cell or a cell over five minutes fails the build.
nb_execution_mode = "force"
nb_execution_in_temp = True
nb_execution_raise_on_error = True
nb_execution_timeout = 300

# The docstrings write names in single backticks, as Markdown does: show them as code.
default_role = "code"
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}

html_theme = "pydata_sphinx_theme"
html_title = "tbp-gbdt"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
