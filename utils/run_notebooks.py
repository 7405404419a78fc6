"""Run notebooks top to bottom in a fresh kernel, save their outputs, and record measured runtimes.

    python -m utils.run_notebooks                 # full mode: saves outputs (what is committed)
    python -m utils.run_notebooks --fast          # fast mode: measures only, saves nothing
    python -m utils.run_notebooks --cold NB       # full mode with an empty model cache (a fresh Colab machine)
    python -m utils.run_notebooks notebooks/01_images_as_arrays.ipynb

Each run writes its wall time into ``notebooks/runtimes.json`` (``fast_s``, ``full_cpu_s`` or
``full_gpu_s``, and the slowest cell of a fast run) and the seconds of each ``## `` section into
``notebooks/section_runtimes.json`` (same keys; the instructor's guide, ``utils.guide``, reads them), then refreshes
the header of each notebook it ran from the template, so the runtimes a notebook shows are measured. Widget state
is never stored.

A notebook that loads a model another notebook trained (05 and 10 load notebook 04's CNN) runs faster where that
model is cached than on a fresh machine such as Colab, where it trains it first. ``--cold`` measures that case: a
full run with an empty, temporary model cache, saved as ``full_cpu_cold_s`` (outputs are not saved).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from utils import notebook_template as template

SECTION_RUNTIMES = template.NOTEBOOKS / "section_runtimes.json"
#: The per-section seconds of the last run of each notebook (stem -> {section: seconds}), filled by :func:`run`.
SECTION_SECONDS: dict[str, dict[str, float]] = {}
INTRO = "(title and setup)"


def section_seconds(nb, cell_seconds: list[float]) -> dict[str, float]:
    """Seconds per ``## `` section (the cells from one ``## `` heading to the next), in notebook order.

    ``cell_seconds`` has one entry per cell (0 for markdown). Cells before the first section count as
    :data:`INTRO`.
    """
    sections: dict[str, float] = {}
    current = INTRO
    for cell, seconds in zip(nb.cells, cell_seconds):
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = cell.source.split("\n")[0][3:].strip()
        sections[current] = round(sections.get(current, 0.0) + seconds, 1)
    return sections


#: TensorFlow's C++ log lines (absl format: ``I0000 00:00:1795326672.488627   30873 file.cc:31] ...``) and
#: absl's own notice. They carry timestamps and process ids, and say nothing to a learner.
TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w./-]+:\d+\]"
                         r"|WARNING: All log messages before absl::InitializeLog)")


def strip_tensorflow_logs(nb) -> int:
    """Drop TensorFlow's C++ log lines from the notebook's stderr outputs, in place; return how many went."""
    dropped = 0
    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = out["text"].splitlines(keepends=True)
                clean = [line for line in lines if not TF_LOG_LINE.match(line)]
                dropped += len(lines) - len(clean)
                if not "".join(clean).strip():
                    continue
                out["text"] = "".join(clean)
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return dropped


def _has_gpu() -> bool:
    return bool(os.environ.get("COURSE_GPU")) or Path("/proc/driver/nvidia/gpus").is_dir()


def run(path: Path, fast: bool, timeout: int = 1800, cold: bool = False) -> tuple[float, float, object]:
    """Execute ``path``; return (total seconds, slowest cell seconds, executed notebook).

    ``cold`` runs it with an empty temporary model cache, as on a machine that has trained nothing yet.
    """
    if cold:
        import tempfile

        saved_cache = os.environ.get("COURSE_CACHE_DIR")
        with tempfile.TemporaryDirectory(prefix="course-cold-cache-") as folder:
            os.environ["COURSE_CACHE_DIR"] = folder
            try:
                return run(path, fast, timeout)
            finally:
                if saved_cache is None:
                    os.environ.pop("COURSE_CACHE_DIR", None)
                else:
                    os.environ["COURSE_CACHE_DIR"] = saved_cache
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_FAST"] = "1" if fast else "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=False, record_timing=True)
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    per_cell = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        seconds = 0.0
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            from datetime import datetime

            t0 = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            t1 = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            seconds = (t1 - t0).total_seconds()
        per_cell.append(seconds)
        cell.get("metadata", {}).pop("execution", None)
    slowest = max(per_cell, default=0.0)
    SECTION_SECONDS[path.stem] = section_seconds(nb, per_cell)
    nb.metadata.pop("widgets", None)
    strip_tensorflow_logs(nb)
    return total, slowest, nb


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line; ``--help`` or an unknown option stops here, before any notebook runs."""
    parser = argparse.ArgumentParser(prog="python -m utils.run_notebooks",
                                     description="Run notebooks in a fresh kernel and record their runtimes "
                                                 "(full mode saves the outputs).")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all of them)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="fast mode: measure only, save nothing")
    mode.add_argument("--cold", action="store_true", help="full mode with an empty model cache: measure only")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    fast, cold = args.fast, args.cold
    paths = args.notebooks or template.notebook_paths()
    runtimes = template.load_runtimes()
    key = "fast_s" if fast else ("full_gpu_s" if _has_gpu() else "full_cpu_s")
    if cold:
        key = key.replace("_s", "_cold_s")
    for path in paths:
        total, slowest, nb = run(path, fast, cold=cold)
        entry = runtimes.setdefault(path.stem, {})
        entry[key] = round(total, 1)
        if fast:
            entry["fast_slowest_cell_s"] = round(slowest, 1)
        elif not cold:
            nbformat.write(nb, path)
        if path.stem in SECTION_SECONDS:
            sections = json.loads(SECTION_RUNTIMES.read_text()) if SECTION_RUNTIMES.exists() else {}
            sections.setdefault(path.stem, {})[key] = SECTION_SECONDS.pop(path.stem)
            SECTION_RUNTIMES.write_text(json.dumps(sections, indent=1, sort_keys=True) + "\n")
        mode = "fast" if fast else ("full, empty model cache" if cold else "full")
        print(f"{path.name}: {mode} mode {total:.1f} s (slowest cell {slowest:.1f} s)")
        template.RUNTIMES.write_text(json.dumps(runtimes, indent=1, sort_keys=True) + "\n")
    for path in paths:  # a header shows only its own notebook's runtimes: leave the others' files alone
        template.write(path, runtimes)
    template.README.write_text(template.readme_with_syllabus(template.README.read_text(), runtimes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
