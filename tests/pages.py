"""The generated pages as tests read them: parsed into their sections, and checked in a real
browser, where headless Chromium loads a page with a check script of the test's own that writes
its verdict (JSON) into the page title, which --dump-dom prints. Browser tests skip without
Chromium (.ci/run installs Debian's)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest


class Page(HTMLParser):
    """Sections (id -> images, missing-input lines, text), every src/href, script tags, and
    image tiles."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.current: str | None = None
        self.links: list[str] = []
        self.scripts = 0
        self.tiles = 0
        self._missing = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.sections[self.current] = {"images": 0, "missing": [], "text": ""}
        for key in ("src", "href"):
            if key in attrs:
                self.links.append(attrs[key])
        if tag == "img" and self.current:
            self.sections[self.current]["images"] += 1
            self.tiles += "tile" in (attrs.get("class") or "")
        self.scripts += tag == "script"
        self._missing = tag == "p" and attrs.get("class") == "missing"

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current is None:
            return
        self.sections[self.current]["text"] += data
        if self._missing and data.strip():
            self.sections[self.current]["missing"].append(" ".join(data.split()))
            self._missing = False


# Installed first in <head>, so that an error in any later script is caught.
ERROR_HOOK = (
    "<script>window.__errors = []; window.addEventListener('error', "
    "function (e) { window.__errors.push(String(e.message)); });</script>"
)


def chromium() -> str:
    """The browser's path; the test skips without one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium installed (.ci/run installs Debian's chromium)")


def browser_flags(folder: Path) -> list[str]:
    """Headless Chromium with its profile in `folder`, logging the page's console to stderr."""
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    return flags + ["--enable-logging=stderr", "--v=0", f"--user-data-dir={folder / 'profile'}"]


def verdict_in_browser(html: str, check_script: str, folder: Path) -> dict:
    """Load `html` with the error hook and `check_script` (which sets document.title to its
    JSON verdict once the page has loaded); the verdict, with no console message allowed."""
    checked = folder / "checked.html"
    checked.write_text(
        html.replace("<head>", "<head>" + ERROR_HOOK, 1).replace(
            "</body>", check_script + "</body>"
        )
    )
    result = subprocess.run(
        [*browser_flags(folder), "--virtual-time-budget=10000", "--dump-dom", checked.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    title = re.search(r"<title>(.*?)</title>", result.stdout, re.S).group(1)
    return json.loads(unescape(title))
