import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

import bookbag
from reviews.models import ReviewItem

DEMO = Path(bookbag.__file__).resolve().parent / "demo_data"
DATA = Path(__file__).resolve().parent.parent / "data"


def test_hh_rlhf_sample_is_first_150_lines_unchanged():
    with gzip.open(DATA / "hh-rlhf_helpful-base_test.jsonl.gz", "rb") as full:
        expected = [next(full) for _ in range(150)]

    with gzip.open(DEMO / "hh-rlhf_helpful-base_test_first150.jsonl.gz", "rb") as sample:
        assert sample.readlines() == expected


def test_tau_bench_sample_is_first_12_trajectories():
    full = json.loads((DATA / "tau-bench_gpt-4o-airline_trajectories.json").read_text())

    sample_text = (DEMO / "tau-bench_gpt-4o-airline_first12.json").read_text()

    assert json.loads(sample_text) == full[:12]
    assert sample_text[2:-3] in (DATA / "tau-bench_gpt-4o-airline_trajectories.json").read_text()


def test_licences_name_each_sample():
    licences = (DEMO / "LICENSES.md").read_text()

    for path in DEMO.iterdir():
        if path.name != "LICENSES.md":
            assert f"`{path.name}`" in licences


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "count"), [
    ("hh-rlhf_helpful-base_test_first150.jsonl.gz", 150),
    ("tau-bench_gpt-4o-airline_first12.json", 12),
])
def test_demo_sample_imports_cleanly(queue, name, count):
    out = StringIO()

    call_command("import_items", str(DEMO / name), queue=queue.slug, stdout=out, stderr=StringIO())

    assert f"{count} created, 0 duplicates skipped, 0 rejected ({count} rows read)." in out.getvalue()
    assert ReviewItem.objects.filter(queue=queue).count() == count
