"""The API reference's parameter lines, from the commands' own flag help.

A function of `tbp_gbdt` is its command with the flags as keyword arguments (a test checks the
names), so each parameter is described once, by the flag's `--help` text: this Sphinx hook
appends `:param name: help` for every flag of the command whose module defines the function,
and autodoc puts the type hints beside them. Nothing to keep in step by hand.
"""

from __future__ import annotations

import importlib
import inspect


def flag_help(function) -> dict[str, str]:
    """Parameter name -> the help of the command flag it mirrors; {} for a function that no
    command's parser stands behind."""
    module = importlib.import_module(function.__module__)
    parser_of = getattr(module, "_parser", None)
    if parser_of is None:
        return {}
    names = set(inspect.signature(function).parameters)
    helps = {}
    for action in parser_of()._actions:
        if action.dest in names and action.help:
            text = action.help % {"default": action.default, "prog": ""}
            helps[action.dest] = " ".join(text.split())
    return helps


def _append_params(app, what, name, obj, options, lines) -> None:
    if what != "function" or not name.startswith("tbp_gbdt."):
        return
    described = {line.split()[1].rstrip(":") for line in lines if line.startswith(":param ")}
    params = [
        f":param {param}: {text}"
        for param, text in flag_help(obj).items()
        if param not in described
    ]
    if params:
        lines.extend(["", *params])


def setup(app):
    app.connect("autodoc-process-docstring", _append_params)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
