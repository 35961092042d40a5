"""The report as files: one self-contained HTML page (Jinja2 with autoescaping, so any string
from the data comes out as text, never as markup) and a Markdown summary beside it, each
written under a temporary name and renamed into place."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from models.artifacts.files import write_bytes
from reports.report import Report

_MARKDOWN_SPECIAL = str.maketrans(
    {
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "`": "\\`",
        "*": "\\*",
        "[": "\\[",
        "]": "\\]",
        "\n": " ",
        "\r": " ",
    }
)


def render_html(report: Report) -> str:
    return environment(autoescape=True).get_template("report.html.j2").render(report=report)


def render_markdown(report: Report) -> str:
    return environment(autoescape=False).get_template("summary.md.j2").render(report=report)


def markdown_text(value) -> str:
    """A value as Markdown text: table pipes, markup and line breaks neutralised."""
    return str(value).translate(_MARKDOWN_SPECIAL)


def summary_path(html: Path) -> Path:
    return Path(html).with_suffix(".md")


def write_report(report: Report, html: Path) -> tuple[Path, Path]:
    """Write FILE.html and FILE.md (each atomically); return both paths."""
    html = Path(html)
    page, summary = render_html(report), render_markdown(report)
    write_bytes(html, page.encode("utf-8"))
    write_bytes(summary_path(html), summary.encode("utf-8"))
    return html, summary_path(html)


def environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_text
    env.globals["sections"] = lambda report: {s.key: s for s in report.sections}
    return env
