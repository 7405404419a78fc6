"""pytest set-up shared by the unit tests and the nbval notebook runs.

- nbval does not compare stderr: TensorFlow's C-level logs never reach it under nbval, and Python
  warnings there depend on library versions, not on the course.
- At the end, a table of each notebook's duration (sum of its cells) and its slowest cell.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
