"""The bundle's README.md: a Hugging Face dataset card.

The YAML header lists one ``configs`` entry per non-empty data file, so
``datasets.load_dataset(bundle_dir, "sft")`` loads that file by name and
ignores ``manifest.json`` and the provenance file. The card holds only what
the data determines (no job id or time), so the same data gives the same card.
"""

from typing import Any

from .formats import ExportFormat

PROVENANCE_PATH = "meta/examples.jsonl"

def _yaml_header(files: list[dict[str, Any]]) -> list[str]:
    data_files = [entry for entry in files if entry["path"] != PROVENANCE_PATH and entry["rows"]]
    tags = [entry["path"].removesuffix(".jsonl") for entry in data_files]
    lines = ["---", "license: other", "tags:", "- human-feedback", "- bookbag"]
    lines += [f"- {tag}" for tag in tags]
    if not data_files:
        return [*lines, "---"]

    lines.append("configs:")
    for position, entry in enumerate(data_files):
        lines.append(f"- config_name: {entry['path'].removesuffix('.jsonl')}")
        if position == 0:
            lines.append("  default: true")
        lines += ["  data_files:", "  - split: train", f"    path: {entry['path']}"]
    return [*lines, "---"]


def dataset_card(*, export_format: ExportFormat, files: list[dict[str, Any]], counts: dict[str, Any]) -> str:
    """Return the card text for a bundle with ``files`` (manifest entries) and ``counts``."""
    verdicts = counts["verdicts"]
    lines = _yaml_header(files) + [
        "",
        "# Bookbag review export",
        "",
        f"Human QA reviews of AI replies, exported as training data in the {export_format.title} format.",
        "",
        "| file | format | rows |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{entry['path']}` | `{entry['format']}` | {entry['rows']} |" for entry in files]
    lines += [
        "",
        "## How the rows were made",
        "",
        f"- {verdicts.get('approved', 0)} approved replies: one SFT row each, with the original reply.",
        f"- {verdicts.get('needs_fix', 0)} replies that needed a fix: one SFT row with the human rewrite, and one "
        "preference pair (chosen = rewrite, rejected = original).",
        f"- {verdicts.get('rejected', 0)} rejected replies: no rows.",
        f"- {counts['dpo_pairs_dropped_identical']} pairs dropped because the rewrite equals the original "
        "once whitespace is collapsed.",
        f"- {counts['items_skipped_invalid']} items skipped because their messages are invalid; "
        "`manifest.json` lists them.",
        "",
        "## Training",
        "",
        export_format.training_note,
        "",
        "```python",
        "from datasets import load_dataset",
        'sft = load_dataset("json", data_files="sft.jsonl", split="train")',
        "```",
        "",
        "## Provenance",
        "",
        f"`{PROVENANCE_PATH}` has one line per data row: the file and line, the review item "
        "(id, source, external id, queue), the rubric slug and version, the reviewer id, the review "
        "time, the verdict and the model. `manifest.json` lists every file with its row count, size "
        "and SHA-256.",
        "",
    ]
    return "\n".join(lines)
