"""Manifest constants: the schema version, the JSON Schema's path and the code version of a build.

The schema (``schemas/manifest.schema.json``) describes every field the
bundle writer puts in the manifest, and the tests check real bundles against it.
"""

import logging
import os
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
MANIFEST_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "manifest.schema.json"
SOURCE_DIR = Path(__file__).resolve().parent.parent
COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def code_version() -> dict[str, Any]:
    """Return the installed package version and, when known, the git commit the code was built from.

    ``BOOKBAG_GIT_COMMIT`` names the commit where the code runs without its
    git checkout, such as an image built from a commit. Otherwise the commit
    is read from the source folder's ``.git``, and it is None without one.
    """
    try:
        package = version("bookbag")
    except PackageNotFoundError:
        package = "unknown"
    return {"package": package, "git_commit": os.environ.get("BOOKBAG_GIT_COMMIT") or _git_commit(SOURCE_DIR)}


def _git_commit(source_dir: Path) -> str | None:
    """Read the commit of HEAD from the files of ``source_dir/.git``, without running git."""
    try:
        git_dir = _git_dir(source_dir / ".git")
        head = (git_dir / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head if COMMIT.match(head) else None
        # A linked worktree keeps its branch refs in the main repository's git directory.
        commondir_file = git_dir / "commondir"
        common_dir = git_dir / commondir_file.read_text().strip() if commondir_file.exists() else git_dir
        return _ref_commit(common_dir, head.removeprefix("ref: "))
    except OSError as error:
        logger.info("export.git_commit_unknown", extra={"error": str(error)})
        return None


def _git_dir(dot_git: Path) -> Path:
    # A worktree or submodule has a ``.git`` file that points at its git directory.
    if dot_git.is_file():
        return (dot_git.parent / dot_git.read_text().strip().removeprefix("gitdir: ")).resolve()
    return dot_git


def _ref_commit(common_dir: Path, ref: str) -> str | None:
    loose = common_dir / ref
    if loose.is_file():
        commit = loose.read_text().strip()
        return commit if COMMIT.match(commit) else None
    packed = common_dir / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            commit, _, name = line.partition(" ")
            if name == ref and COMMIT.match(commit):
                return commit
    return None
