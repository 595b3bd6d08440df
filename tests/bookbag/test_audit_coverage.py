"""A scan of the code for bulk writes and deletes that skip the audit history.

Every queryset ``update()``, ``bulk_create()``, ``bulk_update()`` and
argument-less ``delete()`` in the apps must share its function with an
``audit_record`` or ``audit_record_many`` call: after the write for updates
and inserts, anywhere in the function for deletes (the event must be
written while the row still has its id). The few writes that change no
state worth an event are listed in ALLOWED with the reason.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bookbag", "reviews", "rubrics", "exports")
WRITE_METHODS = {"update", "bulk_create", "bulk_update", "delete"}
AUDIT_CALLS = {"audit_record", "audit_record_many"}

# (file, function, method) -> why that write needs no event of its own.
ALLOWED = {
    ("bookbag/audit/services.py", "_append", "bulk_create"):
        "the audit writer itself inserting events and their queue links",
    ("bookbag/audit/pruning.py", "_events_delete", "delete"):
        "pruning is the one path allowed to delete events; audit_prune records an audit.prune event",
    ("bookbag/tokens/authentication.py", "authenticate_credentials", "update"):
        "last_used_at on a token is usage telemetry written on every API request, not a change of the token",
    ("exports/lifecycle.py", "job_heartbeat", "update"):
        "heartbeat_at and rows_done are liveness and progress counters written per chunk of a running build",
    ("exports/services.py", "_bundle_build", "update"):
        "rows_total and rows_done are progress counters of a running build; its start and end have events",
    ("rubrics/services.py", "_edit_in_place", "delete"):
        "criteria are part of the rubric: rubric_update records them in the rubric.update event's before and after",
}


def _write_calls(function: ast.AST):
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        if method not in WRITE_METHODS:
            continue
        if method == "update" and not (isinstance(receiver, ast.Call) or _is_manager(receiver)):
            continue  # dict.update, set.update, hashlib's update
        if method == "delete" and (node.args or node.keywords):
            continue  # storage.delete(name) and FieldFile.delete(save=...) remove files, not rows
        yield node, method


def _is_manager(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "objects"


def _audit_lines(function: ast.AST) -> list[int]:
    return [
        node.lineno for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in AUDIT_CALLS
    ]


def _functions():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield path.relative_to(ROOT).as_posix(), node


def _unaudited_writes() -> list[tuple[str, str, str, int]]:
    found = []
    for path, function in _functions():
        audits = _audit_lines(function)
        for call, method in _write_calls(function):
            key = (path, function.name, method)
            if key in ALLOWED:
                continue
            if method == "delete" and audits:
                continue
            if any(line > call.lineno for line in audits):
                continue
            found.append((*key, call.lineno))
    return found


def test_every_bulk_write_is_audited():
    unaudited = _unaudited_writes()

    assert unaudited == [], (
        "These writes have no audit_record after them in the same function; record an event "
        "or add them to ALLOWED with the reason: " + ", ".join(f"{p}:{line} {f}() .{m}()" for p, f, m, line in unaudited)
    )


def test_allow_list_has_no_stale_entries():
    present = {(path, function.name, method) for path, function in _functions() for _, method in _write_calls(function)}

    assert set(ALLOWED) - present == set()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    Item.objects.filter(pk=1).update(state='x')\n", 1),
        ("def f():\n    Item.objects.bulk_create(rows)\n", 1),
        ("def f():\n    item.delete()\n", 1),
        ("def f():\n    Item.objects.filter(pk=1).update(state='x')\n    audit_record(actor=None)\n", 0),
        ("def f():\n    audit_record(actor=None)\n    Item.objects.filter(pk=1).update(state='x')\n", 1),
        ("def f():\n    audit_record(actor=None)\n    item.delete()\n", 0),
        ("def f():\n    values.update(other)\n    storage.delete(name)\n", 0),
    ],
)
def test_scan_flags_unaudited_writes(tmp_path, monkeypatch, source, expected):
    package = tmp_path / "bookbag"
    package.mkdir()
    (package / "module.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGES", ("bookbag",))

    assert len(_unaudited_writes()) == expected


AUDIT_MODELS = {"AuditEvent", "AuditEventQueue", "AuditCheckpoint"}
# Where the audit tables may be written to: the append path and pruning.
AUDIT_WRITERS = {
    ("bookbag/audit/services.py", "_append", "bulk_create"),
    ("bookbag/audit/pruning.py", "_events_delete", "delete"),
}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def test_no_app_path_rewrites_audit_tables():
    writes = set()
    for path, function in _functions():
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr in WRITE_METHODS | {"save", "create"} and _root_name(node.func.value) in AUDIT_MODELS:
                writes.add((path, function.name, node.func.attr))

    assert writes == AUDIT_WRITERS
