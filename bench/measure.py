"""Timing a child process, reading its peak memory, and describing the machine.

Each measured step runs under GNU time (``/usr/bin/time``, Debian package
``time``), which reports the peak resident set size of the command it
starts. Reading ``ru_maxrss`` of our own child would be wrong: Linux keeps
the peak RSS of the process image that calls ``exec``, so a child forked
from this Django-loaded process would report at least this process's size.
GNU time is small, so its child starts from about 1 MB.
"""

import os
import platform
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GNU_TIME = "/usr/bin/time"


class StepFailed(RuntimeError):
    """A measured child process exited with an error or ran past its time limit."""


@dataclass(frozen=True)
class ChildRun:
    """Wall time (seconds), peak RSS (KiB, GNU time's ``%M``) and the load average before the start."""

    seconds: float
    max_rss_kib: int
    load_before: tuple[float, float, float]


def child_run(argv: list[str], *, stdout: IO, stderr: IO, timeout: float) -> ChildRun:
    """Run ``argv`` to completion and measure it; raise StepFailed on a non-zero exit or after ``timeout`` seconds.

    The child gets its own process group, so a timeout kills the command as
    well as GNU time.
    """
    if not os.access(GNU_TIME, os.X_OK):
        raise StepFailed(f"{GNU_TIME} not found; install GNU time (apt-get install time).")
    with tempfile.NamedTemporaryFile("r", prefix="bench-time-", suffix=".txt") as time_output:
        load_before = os.getloadavg()
        started = time.perf_counter()
        process = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", time_output.name, *argv],
                                   stdout=stdout, stderr=stderr, start_new_session=True)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise StepFailed(f"{argv[0]} timed out after {timeout:.0f} s and was killed; raise --timeout.") from None
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        seconds = time.perf_counter() - started
        report = time_output.read().split()

    if process.returncode != 0:
        raise StepFailed(f"{argv[0]} exited with status {process.returncode}; its error output is above.")
    return ChildRun(seconds=seconds, max_rss_kib=int(report[-1]), load_before=load_before)


def _command_output(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip("\n")
    except (OSError, subprocess.CalledProcessError) as error:
        return f"unavailable ({error})"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def machine_describe(*, postgres_version: str, repository: Path) -> dict[str, str]:
    """Return the facts that a benchmark result depends on, as printable text."""
    exports_changes = _command_output(["git", "-C", str(repository), "status", "--porcelain", "--", "exports"])
    return {
        "nproc": _command_output(["nproc"]),
        "free -h": _command_output(["free", "-h"]),
        "cpu": _cpu_model(),
        "postgresql": postgres_version,
        "python": platform.python_version(),
        "commit": _command_output(["git", "-C", str(repository), "rev-parse", "--short", "HEAD"]),
        "uncommitted changes under exports/": exports_changes or "none",
    }
