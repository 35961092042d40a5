"""The features page's list, generated from the feature registry at every docs build.

`render()` returns the list as MyST Markdown: one section per family of `features.build.FAMILIES`
and the `image` family, each with what the family is and every feature's name, kind and
one-line doc from `features.build.describe`, the default families (configs/default.toml) marked.
The Sphinx hook writes it to docs/_generated/feature_list.md (not committed), which
docs/features.md includes, so the page never lists a feature by hand. tests/test_docs.py reads
`render()` back and checks it against the registry; nothing here imports Sphinx, so that test
runs without the docs extra.
"""

from __future__ import annotations

import re
from pathlib import Path

GENERATED = Path(__file__).resolve().parent.parent / "_generated" / "feature_list.md"
# The image family is one set of features per score column of the score files; the page shows
# the set for a column named like this.
IMAGE_EXAMPLE_COLUMN = "score"
IMAGE_FAMILY = "image"
# The image family is built from a run's score files, not from `[features] families`, and its
# words point into this site; the registry's families say what they are in features/.
IMAGE_DOC = (
    "Four features per column of the image-model score files (`--image-scores-train`, "
    "`--image-scores-test`): the score as given, over the patient's mean score, its "
    "percentile within the patient, and its z-score among training lesions of the same "
    "hospital, body location and age band. Built only when a run has score files; shown "
    f"here for a score column named `{IMAGE_EXAMPLE_COLUMN}`. See "
    "[Image scores and blends](image_scores.md)."
)
# Markdown that would change a doc's text: escaped, so the page shows it as written.
_SPECIAL = re.compile(r"([\\`*_|<>\[\]{}$#~])")


def families() -> list[str]:
    """Every family the page lists, in build order: the registry's, then `image`."""
    from features.build import FAMILIES

    return [*FAMILIES, IMAGE_FAMILY]


def default_families() -> list[str]:
    """The families a run builds without a config: `raw` and configs/default.toml's."""
    from features.build import RAW_FAMILY
    from models.config import load_config

    return [RAW_FAMILY, *load_config().features.families]


def registry_features() -> list[dict[str, str]]:
    """Name, family, kind and doc of every feature of every family (the image family for the
    example column), as `features.build.describe` gives them."""
    from features.build import FAMILIES, describe

    return describe(FAMILIES, (IMAGE_EXAMPLE_COLUMN,))


def render() -> str:
    """The features list as MyST Markdown, a section per family."""
    from features import schema
    from features.family_docs import FAMILY_DOCS

    docs = {**FAMILY_DOCS, IMAGE_FAMILY: IMAGE_DOC}
    from models.config import load_config

    rows = registry_features()
    on = set(default_families())
    lines = [
        "### Families at a glance",
        "",
        "| family | on by default | features |",
        "| --- | --- | ---: |",
    ]
    for family in families():
        count = sum(row["family"] == family for row in rows)
        lines.append(f"| [`{family}`](#{_anchor(family)}) | {_default(family, on)} | {count} |")
    lines.append("")
    for family in families():
        lines += [
            f"({_anchor(family)})=",
            f"### `{family}`" + (" (on by default)" if family in on else ""),
            "",
            docs[family],
            "",
            "| feature | kind | what it is |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| `{row['name']}` | {row['kind']} | {_escape(row['doc'])} |"
            for row in rows
            if row["family"] == family
        ]
        lines.append("")
    categoricals = load_config().features.categoricals
    lines += [
        "(categorical-inputs)=",
        "### Categorical inputs",
        "",
        "Besides the features above, the default config (`[features] categoricals`) gives the "
        "models these columns of the file as categories, with levels fixed from the schema and "
        "the training data (a level never seen in training becomes null):",
        "",
        "| column | levels in the schema |",
        "| --- | ---: |",
    ]
    lines += [f"| `{c}` | {len(schema.CATEGORY_LEVELS.get(c, ()))} |" for c in categoricals]
    return "\n".join(lines) + "\n"


def write(path: Path = GENERATED) -> bool:
    """Write the list where docs/features.md includes it; True when the text changed. An
    unchanged file keeps its time stamp, so Sphinx does not re-read the page for nothing."""
    text = render()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def setup(app) -> dict:
    app.connect("builder-inited", lambda _app: write())
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _anchor(family: str) -> str:
    return f"feature-family-{family.replace('_', '-')}"


def _default(family: str, on: set[str]) -> str:
    if family == IMAGE_FAMILY:
        return "with score files"
    return "yes" if family in on else "no"


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)
