"""pytest set-up shared by the unit tests and the nbval notebook runs.

- nbval does not compare stderr: TensorFlow's C-level logs never reach it under nbval, and Python
  warnings there depend on library versions, not on the course.
- Trained models go to a temporary cache folder for the test session (``COURSE_CACHE_DIR``), so a run never
  reads a learner's ``.cache/`` (a stale or full-mode model there) nor writes into it. The notebooks still
  share that folder with each other within the run: notebook 05 loads what notebook 04 cached.
  ``COURSE_TEST_CACHE_DIR`` names a folder to keep instead (to inspect what the run saved).
- At the end, a table of each notebook's duration (sum of its cells) and its slowest cell.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if os.environ.get("COURSE_TEST_CACHE_DIR"):
    os.environ["COURSE_CACHE_DIR"] = os.environ["COURSE_TEST_CACHE_DIR"]
else:
    _cache = tempfile.mkdtemp(prefix="course-test-cache-")
    os.environ["COURSE_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

_durations: dict[str, list[float]] = defaultdict(list)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        parent = getattr(item, "parent", None)
        if parent is not None and hasattr(parent, "skip_compare") and "stderr" not in parent.skip_compare:
            parent.skip_compare = tuple(parent.skip_compare) + ("stderr",)


def pytest_runtest_logreport(report):
    if report.when == "call" and ".ipynb::" in report.nodeid:
        _durations[report.nodeid.split("::")[0]].append(report.duration)


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    terminalreporter.section("notebook durations (this run's mode)")
    for name, cells in sorted(_durations.items()):
        terminalreporter.write_line(f"{Path(name).name:42s} {sum(cells):7.1f} s  slowest cell {max(cells):5.1f} s")
