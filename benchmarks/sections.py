"""Each benchmark owns one marked section of benchmarks/RESULTS.md and replaces only that."""

from __future__ import annotations

import os
from pathlib import Path


def write_section(results: Path, text: str, name: str) -> None:
    """Replace the section between `<!-- NAME: start -->` and `<!-- NAME: end -->`, or append
    it; written to a temporary name and renamed into place."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    section = f"{start}\n{text}\n{end}\n"
    old = results.read_text() if results.is_file() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = before + section + after
    else:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + section
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(f".{results.name}.{os.getpid()}.tmp")
    tmp.write_text(new)
    os.replace(tmp, results)
