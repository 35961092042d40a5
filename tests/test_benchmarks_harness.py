"""The benchmarks' shared results writer: each benchmark replaces only its own section."""

from __future__ import annotations

from benchmarks.harness import write_section


def test_a_section_is_appended_then_replaced_in_place(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n")
    write_section(results, "first table", "bench.a")
    write_section(results, "other table", "bench.b")
    write_section(results, "second table", "bench.a")
    text = results.read_text()
    assert text.count("<!-- bench.a: start -->") == 1
    assert "first table" not in text and "second table" in text
    assert text.index("second table") < text.index("other table")  # kept its place
    assert text.startswith("# Results\n")
