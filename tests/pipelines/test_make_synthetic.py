"""make_synthetic's user errors: one line, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bad_row_count_is_a_user_error(tmp_path):
    out = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.make_synthetic", "--out", str(out), "--rows", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --rows: expected a whole number >= 1, got 0"
    assert not out.exists()
