"""Checking and printing the benchmark results: sanity checks, targets, Markdown and profile summaries."""

import io
import pstats
from pathlib import Path
from typing import Any

from bench.measure import ChildRun

MAX_TIME_RATIO = 1.5
MAX_RSS_BYTES = 300_000_000
RSS_TARGET_ITEMS = 1_000_000
# "Flat" peak memory: the largest size may use at most this much more than the 100k run.
MAX_RSS_GROWTH = 0.10
FLAT_FROM = 100_000
PROFILE_LINES = 30


def run_fields(run: ChildRun) -> dict[str, Any]:
    return {"seconds": run.seconds, "max_rss_kib": run.max_rss_kib, "load_before": list(run.load_before)}


def _megabytes(kib: int) -> float:
    """Convert KiB, the unit of GNU time's ``%M``, to MB of 10**6 bytes, the unit of the 300 MB target."""
    return kib * 1024 / 1_000_000


def problems_find(result: dict[str, Any], *, expected_verdicts: dict[str, int]) -> list[str]:
    """Return what shows that a measured run did not read every seeded item; empty when both runs did."""
    problems = []
    if result["baseline"]["rows"] != result["items"]:
        problems.append(f"baseline wrote {result['baseline']['rows']} rows, expected {result['items']}")
    counts = result["export"]["counts"]
    if counts["items"] != result["items"]:
        problems.append(f"export counted {counts['items']} items, expected {result['items']}")
    if counts["verdicts"] != expected_verdicts:
        problems.append(f"export counted verdicts {counts['verdicts']}, expected {expected_verdicts}")
    return problems


def profile_summarize(stats_path: Path) -> Path:
    """Write the top functions of a cProfile stats file, by own time and by cumulative time, beside it."""
    buffer = io.StringIO()
    stats = pstats.Stats(str(stats_path), stream=buffer).strip_dirs()
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    summary = stats_path.with_suffix(".txt")
    summary.write_text(buffer.getvalue())
    return summary


def _ratio(result: dict[str, Any]) -> float:
    return result["export"]["seconds"] / result["baseline"]["seconds"]


def result_line(result: dict[str, Any]) -> str:
    baseline, export = result["baseline"], result["export"]
    return (
        f"{result['items']} items: baseline {baseline['seconds']:.1f} s, {_megabytes(baseline['max_rss_kib']):.0f} MB; "
        f"export {export['seconds']:.1f} s, {_megabytes(export['max_rss_kib']):.0f} MB; "
        f"ratio {_ratio(result):.2f}; problems: {result['problems'] or 'none'}"
    )


def _table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| items | seed + vacuum (s) | COPY baseline (s) | baseline items/s | baseline max RSS (MB) "
        "| export (s) | `export_build` (s) | export items/s | export max RSS (MB) | RSS before build (MB) "
        "| export / baseline time | bundle (MB) | load avg before baseline / export |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        baseline, export, items = result["baseline"], result["export"], result["items"]
        lines.append(
            f"| {items:,} | {result['seed_seconds']:.1f} + {result['vacuum_seconds']:.1f} "
            f"| {baseline['seconds']:.2f} | {items / baseline['seconds']:,.0f} "
            f"| {_megabytes(baseline['max_rss_kib']):.1f} "
            f"| {export['seconds']:.2f} | {export['build_seconds']:.2f} | {items / export['seconds']:,.0f} "
            f"| {_megabytes(export['max_rss_kib']):.1f} | {_megabytes(export['rss_before_build_kib']):.1f} "
            f"| {_ratio(result):.2f} | {export['bundle_bytes'] / 1_000_000:.1f} "
            f"| {baseline['load_before'][0]:.2f} / {export['load_before'][0]:.2f} |"
        )
    return lines


def targets_check(results: list[dict[str, Any]]) -> list[str]:
    """Return one line per target, saying whether the results meet it."""
    lines = []
    for result in results:
        ratio = _ratio(result)
        verdict = "met" if ratio <= MAX_TIME_RATIO else "not met"
        lines.append(f"- Time at {result['items']:,} items: export / baseline = {ratio:.2f} "
                     f"(target at most {MAX_TIME_RATIO}): {verdict}.")
    largest = results[-1]
    rss = largest["export"]["max_rss_kib"] * 1024
    verdict = "met" if rss < MAX_RSS_BYTES else "not met"
    if largest["items"] < RSS_TARGET_ITEMS:
        verdict = f"not measured, because the largest size is below {RSS_TARGET_ITEMS:,}"
    lines.append(f"- Peak RSS at {largest['items']:,} items: {rss / 1_000_000:.1f} MB "
                 f"(target under {MAX_RSS_BYTES / 1_000_000:.0f} MB at {RSS_TARGET_ITEMS:,}): {verdict}.")
    base = next((result for result in results if result["items"] == FLAT_FROM), None)
    if base is None or largest is base:
        lines.append(f"- Flat RSS from {FLAT_FROM:,} to the largest size: not measured in this run.")
        return lines
    growth = largest["export"]["max_rss_kib"] / base["export"]["max_rss_kib"] - 1
    verdict = "met" if growth <= MAX_RSS_GROWTH else "not met"
    lines.append(f"- RSS growth from {FLAT_FROM:,} to {largest['items']:,} items: {growth:+.1%} "
                 f"(flat means at most {MAX_RSS_GROWTH:+.0%}): {verdict}.")
    return lines


def markdown(results: list[dict[str, Any]], *, machine: dict[str, str], command: str, total_seconds: float) -> str:
    lines = ["Machine:", ""]
    for key, value in machine.items():
        if "\n" in value:
            lines += [f"- {key}:", "", "  ```", *[f"  {line}" for line in value.splitlines()], "  ```"]
        else:
            lines.append(f"- {key}: {value}")
    lines += ["", "Command:", "", "```", command, "```", "", *_table(results), "", "Targets:", ""]
    lines += targets_check(results)
    problems = [f"- {result['items']:,} items: {problem}" for result in results for problem in result["problems"]]
    lines += ["", "Checks: " + ("every run read every seeded item." if not problems else "FAILED"), *problems]
    lines += ["", f"The whole run took {total_seconds / 60:.1f} minutes."]
    return "\n".join(lines)
