"""The offline feature report: one self-contained HTML page (and a Markdown summary) that shows
what is in the data, which features separate malignant from benign lesions, what a run's models
learned and where they work less well. Sections live in their own modules (`data`, `features`,
`model`, `groups`, `lesions`), plots are matplotlib PNGs embedded in the page, and the page is a
Jinja2 template with autoescaping.

    from reports import build_report, resolve_inputs, write_report
    write_report(build_report(resolve_inputs(data_dir, run_dir)), "report.html")
"""

from reports.inputs import ReportInputs, resolve_inputs
from reports.render import render_html, render_markdown, summary_path, write_report
from reports.report import Report, build_report

__all__ = [
    "Report",
    "ReportInputs",
    "build_report",
    "render_html",
    "render_markdown",
    "resolve_inputs",
    "summary_path",
    "write_report",
]
