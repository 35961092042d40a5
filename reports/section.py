"""What every section of the report hands to the templates: its title, the one line shown
instead of its content when an input is missing, its plots (pictures first), its tables, and
what it sampled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reports.plots import Plot


@dataclass
class Section:
    key: str  # the HTML anchor and the template's name: data, features, model, groups, lesions
    title: str
    missing: str | None = None  # why the section has nothing to show, in one line
    facts: list[tuple[str, str]] = field(default_factory=list)  # headline numbers
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # partial inputs, samples, how to read it
    tables: dict[str, Any] = field(default_factory=dict)  # read by the section's own template

    def note(self, line: str | None) -> None:
        if line:
            self.notes.append(line)


def missing_section(key: str, title: str, why: str) -> Section:
    return Section(key, title, missing=why)


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for the page: fixed decimals, a dash for none."""
    return "-" if value is None else f"{value:.{digits}f}"


def count(value: int) -> str:
    return f"{value:,}"
