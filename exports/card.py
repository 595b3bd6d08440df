"""The bundle's README.md: a Hugging Face dataset card.

The YAML header lists one ``configs`` entry per data file kind, with one
split per file, so ``datasets.load_dataset(bundle_dir, "sft")`` loads that
file by name and ignores ``manifest.json`` and the provenance file. A config
whose rows all fit the writer's text-only schema also gets
``dataset_info.features``. ``datasets`` then casts every row to that schema
and fails on a row with an extra key or a wrong type. The card contains only
what the data and the options determine (no job id or time), so the same
data gives the same card.
"""

from typing import Any

import yaml

from .formats import ExportFormat, FileWriter
from .options import ExportOptions

PROVENANCE_PATH = "meta/examples.jsonl"


class _CardDumper(yaml.SafeDumper):
    """YAML without anchors: ``datasets`` 5.2 edits parsed features in place, so shared nodes would break."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

FEATURE_TYPES = {"string": str, "bool": bool, "int64": int}


def features_fit(value: Any, features: list[dict[str, Any]] | None) -> bool:
    """Tell whether ``value`` (a row) has exactly the keys and types ``features`` declares."""
    if features is None or not isinstance(value, dict) or set(value) != {feature["name"] for feature in features}:
        return False
    return all(_feature_fits(value[feature["name"]], feature) for feature in features)


def _feature_fits(value: Any, feature: dict[str, Any]) -> bool:
    if "list" in feature:
        return isinstance(value, list) and all(features_fit(entry, feature["list"]) for entry in value)
    if "struct" in feature:
        return features_fit(value, feature["struct"])
    expected = FEATURE_TYPES[feature["dtype"]]
    return isinstance(value, expected) and (expected is bool or not isinstance(value, bool))


def _configs(writers: list[FileWriter], files: list[dict[str, Any]],
             features_fit_by_kind: dict[str, bool]) -> tuple[list[dict], list[dict]]:
    configs, dataset_info = [], []
    for writer in writers:
        data_files = [{"split": entry["split"], "path": entry["path"]}
                      for entry in files if entry.get("kind") == writer.kind and entry["rows"]]
        if not data_files:
            continue
        config: dict[str, Any] = {"config_name": writer.kind}
        if not configs:
            config["default"] = True
        configs.append({**config, "data_files": data_files})
        features = _config_features(writer, features_fit_by_kind[writer.kind], split_count=len(data_files))
        if features is not None:
            dataset_info.append({"config_name": writer.kind, "features": features})
    return configs, dataset_info


def _config_features(writer: FileWriter, fits: bool, *, split_count: int) -> list[dict[str, Any]] | None:
    """Return the features to declare: exact ones for text-only rows, JSON-typed ones for split tool rows.

    Without declared features, ``datasets`` 5.2 infers one schema from the first split and fails to cast
    another split whose messages carry other keys, so a config of several splits needs the JSON-typed
    features. A single file gets none: older ``datasets`` releases do not know the JSON type.
    """
    if fits:
        return writer.features
    return writer.json_features if split_count > 1 else None


def _yaml_header(writers: list[FileWriter], files: list[dict[str, Any]],
                 features_fit_by_kind: dict[str, bool]) -> str:
    configs, dataset_info = _configs(writers, files, features_fit_by_kind)
    header: dict[str, Any] = {
        "license": "other",
        "tags": ["human-feedback", "bookbag", *[writer.kind for writer in writers]],
    }
    if configs:
        header["configs"] = configs
    if dataset_info:
        header["dataset_info"] = dataset_info
    return "---\n" + yaml.dump(header, Dumper=_CardDumper, sort_keys=False, allow_unicode=True) + "---"


def _file_table(writers: list[FileWriter], files: list[dict[str, Any]]) -> list[str]:
    summaries = {writer.kind: writer.summary for writer in writers}
    lines = ["| file | format | split | rows | content |", "| --- | --- | --- | --- | --- |"]
    for entry in files:
        content = summaries.get(entry.get("kind"), "Provenance of every data row.")
        lines.append(f"| `{entry['path']}` | `{entry['format']}` | {entry.get('split', '')} | {entry['rows']} "
                     f"| {content} |")
    return lines


def _counts_section(counts: dict[str, Any]) -> list[str]:
    verdicts = counts["verdicts"]
    duplicates = sum(counts["duplicates_removed"].values())
    return [
        "## How the rows were made",
        "",
        f"- {verdicts.get('approved', 0)} approved replies: trained on as they are.",
        f"- {verdicts.get('needs_fix', 0)} replies that needed a fix: the human rewrite is trained on, and "
        "it forms a preference pair with the original (chosen = rewrite, rejected = original).",
        f"- {verdicts.get('rejected', 0)} rejected replies: only in unpaired preference files, as undesirable.",
        f"- {counts['dpo_pairs_dropped_identical']} pairs dropped because the rewrite equals the original "
        "once whitespace is collapsed.",
        f"- {counts['trivial_edits']} rewrites change only whitespace or punctuation; "
        f"`{PROVENANCE_PATH}` flags their rows with `trivial_edit`.",
        f"- {duplicates} rows dropped as exact duplicates of an earlier row (same prompt and target).",
        f"- {counts['items_skipped_invalid']} items skipped because their messages are invalid, and "
        f"{counts['rows_invalid']} rows left out because they failed the format check; "
        "`manifest.json` lists both with the reasons.",
    ]


def _options_section(options: ExportOptions, counts: dict[str, Any]) -> list[str]:
    lines = ["## Options", ""]
    if options.validation_ratio:
        lines.append(
            f"- Split: about {options.validation_ratio:.0%} of conversations go to `validation`, chosen by a "
            "stable hash of each conversation's opening, so one conversation never spans both splits."
        )
    else:
        lines.append("- Split: none; every row is in the `train` split.")
    lines.append(f"- Tool-call arguments: given as JSON {options.tool_arguments}s.")
    if options.redact_pii:
        redacted = ", ".join(f"{count} {kind}" for kind, count in counts["redacted"].items())
        lines.append(f"- PII redaction: on; placeholders such as `[EMAIL]` replaced {redacted}.")
    else:
        lines.append("- PII redaction: off.")
    return lines


def dataset_card(*, export_format: ExportFormat, writers: list[FileWriter], files: list[dict[str, Any]],
                 counts: dict[str, Any], options: ExportOptions, features_fit_by_kind: dict[str, bool]) -> str:
    """Return the card text for a bundle with ``files`` (manifest entries), ``counts`` and ``options``."""
    first_kind = writers[0].kind if writers else "sft"
    lines = [
        _yaml_header(writers, files, features_fit_by_kind),
        "",
        "# Bookbag review export",
        "",
        f"Human QA reviews of AI replies, exported as training data in the {export_format.title} format.",
        "",
        *_file_table(writers, files),
        "",
        *_counts_section(counts),
        "",
        *_options_section(options, counts),
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        f'rows = load_dataset("path/to/unzipped/bundle", "{first_kind}", split="train")',
        "```",
        "",
        "## Provenance",
        "",
        f"`{PROVENANCE_PATH}` has one line per data row: the file and line, the split, the review item "
        "(id, source, external id, queue), the rubric slug and version, the reviewer id, the review "
        "time, the verdict, the model and the trivial-edit flag. `manifest.json` lists every file with "
        "its row count, size and SHA-256.",
        "",
    ]
    return "\n".join(lines)
