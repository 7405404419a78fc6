"""A real JupyterLab driven by a real Chromium (Python Playwright), for testing the widgets as a learner uses them.

What this file gives the browser tests:

- ``chromium_path`` / ``browser``: Debian's Chromium (``shutil.which("chromium")``), headless, launched by
  Playwright through its executable path (``playwright install`` is never needed). When Chromium or the
  playwright package is missing, every browser test SKIPS with the reason, unless ``COURSE_REQUIRE_BROWSER=1``
  (set by CI), which turns the skip into a FAILURE so CI always runs them.
- ``lab_server``: one JupyterLab per test session: the ``jupyter-lab`` binary next to the running Python,
  127.0.0.1, a free port, no token, ``root_dir`` a temporary copy of the course (utils/, notebooks/, data/),
  fast mode (``COURSE_FAST=1``; ``COURSE_DATA_DIR`` and the rest of the environment pass through), private
  Jupyter config/data/runtime/settings/workspace folders, the news pop-up and update check off, no autosave,
  and ``window.jupyterapp`` exposed. It is stopped by its own PID (its process group), kernels included.
- ``lab``: per test, a fresh browser context and page plus helpers: ``lab.open(notebook)``,
  ``lab.run_all()`` (menu Edit > Clear Outputs of All Cells, then Run > Run All Cells; waits through the app's
  session state and the server's REST kernel state, never the toolbar indicator), ``lab.run_cells_for(...)``
  (only the cells a widget cell depends on, clicked and run with Ctrl+Enter, for notebooks whose run-all
  trains several models), ``lab.widget(css)``, ``lab.set_slider(...)``, ``lab.wait_js(...)``,
  ``lab.settled_text(...)`` (text once the kernel is idle and it stopped changing) and ``lab.step(name)``.
  Before and after each test every session and kernel is deleted through the REST API. At the end of each
  test (pass or fail) a screenshot of the final state goes to ``artifacts/browser/<test>.png``; the paths and
  each test's timings are listed at the end of the pytest run.
- ``@pytest.mark.notebook("02")`` + the ``notebook`` fixture: the path of ``notebooks/02_*.ipynb``; while that
  notebook does not exist the test skips before JupyterLab starts (fails under ``COURSE_REQUIRE_BROWSER=1``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

# Which cells a widget cell needs: the same walk `make prepare` uses to train one model of a notebook.
from utils.prepare import cells_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
REQUIRE = os.environ.get("COURSE_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: What the temporary course copy holds (never .venv, .cache, .git).
COPIED = ("utils", "notebooks", "data")
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".cache", ".git", ".venv")
#: JupyterLab user settings for the tests: no news pop-up or update check, every cell rendered (no windowing,
#: so widgets below the fold exist in the DOM), no autosave into the temporary copy.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

_screenshots: list[tuple[str, Path]] = []
_timings: list[tuple[str, dict[str, float]]] = []


def _unavailable(reason: str):
    """Skip (locally) or fail (``COURSE_REQUIRE_BROWSER=1``, CI) with ``reason``."""
    if REQUIRE:
        pytest.fail(f"{reason} (COURSE_REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{reason}; set COURSE_REQUIRE_BROWSER=1 to make this a failure")


# --------------------------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium")
    if not path:
        _unavailable("browser tests need Chromium: `apt-get install -y chromium` (Debian/Ubuntu)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("browser tests need the playwright Python package (requirements-dev.txt)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# -------------------------------------------------------------------------------------------- JupyterLab


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_lab() -> str:
    here = Path(sys.executable).parent / "jupyter-lab"  # the venv running pytest (not resolved: venv symlinks)
    for candidate in (here, ROOT / ".venv" / "bin" / "jupyter-lab"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("jupyter-lab")
    if not found:
        pytest.fail("jupyter-lab not found next to the Python running pytest (run `make venv`)", pytrace=False)
    return found


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (kernels run in their own sessions, so the group signal misses them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class LabServer:
    """A running JupyterLab: its URL, root folder, process, and REST helpers."""

    def __init__(self, root: Path, port: int, proc: subprocess.Popen, log: Path):
        self.root, self.port, self.proc, self.log = root, port, proc, log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict]:
        return self.api("GET", "/api/sessions")

    def kernels(self) -> list[dict]:
        return self.api("GET", "/api/kernels")

    def kernel_state(self, notebook: str) -> str | None:
        """The server's execution_state of the kernel attached to ``notebook`` (root-relative), if any."""
        for session in self.sessions():
            if session.get("path") == notebook and session.get("kernel"):
                kernel = self.api("GET", f"/api/kernels/{session['kernel']['id']}")
                return kernel.get("execution_state")
        return None

    def clean(self, timeout: float = 20) -> None:
        """Delete every session and kernel, then wait until the server lists none."""
        for session in self.sessions():
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass
        for kernel in self.kernels():
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.HTTPError:
                pass
        deadline = time.monotonic() + timeout
        while self.sessions() or self.kernels():
            if time.monotonic() > deadline:
                raise AssertionError(f"sessions/kernels left after cleaning: {self.sessions()} {self.kernels()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server by its own PID: delete kernels, SIGTERM its process group, then any leftover child."""
        if self.proc.poll() is None:
            try:
                self.clean(timeout=10)
            except Exception:  # noqa: BLE001 - stopping anyway
                pass
        children = _children(self.proc.pid) if self.proc.poll() is None else []
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)  # start_new_session=True: the group id is the server's PID
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        for pid in children:  # kernels the server failed to shut down
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def copy_course(dest: Path) -> Path:
    """A temporary copy of what a learner opens: utils/, notebooks/, data/ (no .venv, .cache, .git)."""
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def lab_server(chromium_path):
    """One JupyterLab for the whole session, on a temporary copy of the course, in fast mode.

    The copy lives in its own ``mkdtemp`` folder, not pytest's tmp_path: pytest prunes old
    ``/tmp/pytest-of-<user>/pytest-N`` folders, so a second pytest run on the same machine (another
    developer, another ``make test``) would delete the course under the running server.
    """
    base = Path(tempfile.mkdtemp(prefix="course-browser-"))
    root = copy_course(base / "course")
    private = {name: base / name for name in ("config", "data", "runtime", "ipython", "settings", "workspaces")}
    for folder in private.values():
        folder.mkdir()
    for name, values in LAB_SETTINGS.items():
        target = private["settings"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k not in {"JUPYTER_TOKEN", "JUPYTER_PASSWORD"}}
    env.update(COURSE_FAST="1", JUPYTER_CONFIG_DIR=str(private["config"]), JUPYTER_DATA_DIR=str(private["data"]),
               JUPYTER_RUNTIME_DIR=str(private["runtime"]), IPYTHONDIR=str(private["ipython"]),
               JUPYTERLAB_SETTINGS_DIR=str(private["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(private["workspaces"]), PYTHONUNBUFFERED="1")
    port = _free_port()
    cmd = [_jupyter_lab(), "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.user_settings_dir={private['settings']}", f"--LabApp.workspaces_dir={private['workspaces']}",
           "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    log = base / "jupyter-server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(root, port, proc, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter-lab exited with {proc.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                server.api("GET", "/api/status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter-lab did not answer within 90 s:\n{server.log_tail()}", pytrace=False)
                time.sleep(0.3)
        yield server
    finally:
        server.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "jupyter-server.log")
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------------------------------ one test's Lab

#: Per code cell: its prompt text, execution count and error outputs; and the frontend's kernel state.
_NOTEBOOK_STATE_JS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const cells = [], errors = [];
  for (const [index, c] of panel.content.widgets.entries()) {
    if (c.model.type !== 'code') continue;
    const prompt = (c.node.querySelector('.jp-InputPrompt') || {}).textContent || '';
    const count = c.model.executionCount;
    cells.push({index, pending: prompt.includes('*'), executed: count !== null && count !== undefined});
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') {
        errors.push('cell ' + (index + 1) + ': ' + o.ename + ': ' + o.evalue + '\\n'
                    + c.model.sharedModel.getSource().slice(0, 300));
      }
    }
  }
  const ctx = panel.sessionContext;
  const kernel = ctx.session && ctx.session.kernel;
  return {path: ctx.path, cells, errors, ready: ctx.isReady,
          connection: kernel ? kernel.connectionStatus : null, status: kernel ? kernel.status : null};
}"""


class Lab:
    """One test's view of JupyterLab: a page, the notebook it opened, and timings."""

    def __init__(self, server: LabServer, page, name: str):
        self.server, self.page, self.name = server, page, name
        self.notebook: str | None = None
        self.timings: dict[str, float] = {}
        self._t0 = self._last = time.monotonic()

    def _mark(self, label: str, since: float) -> None:
        self._last = time.monotonic()
        self.timings[label] = round(self._last - since, 1)

    def step(self, label: str) -> None:
        """Record the seconds since the previous step (shown in the end-of-run timings table)."""
        self._mark(label, self._last)

    def state(self) -> dict | None:
        return self.page.evaluate(_NOTEBOOK_STATE_JS)

    def open(self, notebook: Path | str, timeout: float = 60) -> None:
        """Open ``notebook`` (a path in the course) in a fresh workspace; wait until its kernel is idle."""
        t = time.monotonic()
        rel = Path(notebook)
        if rel.is_absolute():
            rel = rel.relative_to(ROOT) if rel.is_relative_to(ROOT) else rel.relative_to(self.server.root)
        self.notebook = rel.as_posix()
        workspace = re.sub(r"[^A-Za-z0-9]+", "-", self.name)[:60]
        self.page.goto(f"{self.server.url}/lab/workspaces/{workspace}/tree/{self.notebook}?reset",
                       wait_until="domcontentloaded")
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                    "&& window.jupyterapp.shell.currentWidget.sessionContext",
                                    timeout=timeout * 1000)
        self.wait_for_kernel(timeout)
        self._mark("open+kernel", t)

    def wait_for_kernel(self, timeout: float = 60) -> None:
        """Idle kernel in the server's REST state AND a ready, connected session in the app."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            server_state = self.server.kernel_state(self.notebook)
            if (state and state["ready"] and state["connection"] == "connected" and state["status"] == "idle"
                    and server_state == "idle"):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"kernel not ready after {timeout} s: app {state}, server {server_state}")
            time.sleep(0.25)

    def menu(self, menu: str, label: str) -> None:
        """Click a main-menu entry as a learner does: menu bar item ``menu``, then the item labelled ``label``."""
        exact = lambda text: re.compile(rf"^\s*{re.escape(text)}\s*$")  # noqa: E731
        self.page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=exact(menu)).first.click()
        label_loc = self.page.locator(".lm-Menu-itemLabel", has_text=exact(label))
        item = self.page.locator(".lm-Menu .lm-Menu-item", has=label_loc).first
        item.wait_for(state="visible", timeout=10_000)
        item.click()

    def clear_outputs(self) -> None:
        """Edit > Clear Outputs of All Cells (so every execution count seen afterwards is this run's)."""
        self.page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.widgets"
                                    ".every(c => c.model.type !== 'code' || c.model.executionCount === null)",
                                    timeout=10_000)

    def wait_for_cells(self, indexes: set[int] | None, timeout: float, what: str) -> None:
        """Wait until the code cells ``indexes`` (all when None) ran and none is queued; fail on an error."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state["errors"]:
                raise AssertionError(f"{self.notebook}: a cell raised: {state['errors']}")
            cells = [c for c in state["cells"] if indexes is None or c["index"] in indexes]
            if not any(c["pending"] for c in state["cells"]) and all(c["executed"] for c in cells):
                break
            if time.monotonic() > deadline:
                left = [c["index"] + 1 for c in cells if not c["executed"]]
                raise AssertionError(f"{self.notebook}: {what} not finished after {timeout} s; cells not run yet: "
                                     f"{left}; kernel {state['status']}")
            time.sleep(0.25)
        self.wait_for_kernel(timeout=20)

    def run_all(self, timeout: float = 50) -> None:
        """Edit > Clear Outputs of All Cells, then Run > Run All Cells; wait until every code cell ran.

        Fails at once, with the error, when a cell raises.
        """
        t = time.monotonic()
        self.clear_outputs()
        self.menu("Run", "Run All Cells")
        self.wait_for_cells(None, timeout, "run-all")
        self._mark("run-all", t)

    def run_cells_for(self, *needles: str, timeout: float = 50) -> list[int]:
        """Run only the cells the cells containing ``needles`` need (:func:`cells_for`); return their indexes."""
        indexes = cells_for(self.server.root / self.notebook, *needles)
        self.run_cells(indexes, timeout)
        return indexes

    def run_cells(self, indexes: list[int], timeout: float = 50) -> None:
        """Run only the cells ``indexes`` (0-based, in order), as a learner does: click a cell, Ctrl+Enter.

        For notebooks whose run-all is too slow for a browser test: see :func:`cells_for`.
        """
        t = time.monotonic()
        self.clear_outputs()
        cells = self.page.locator(".jp-Notebook .jp-Cell")
        for index in indexes:
            prompt = cells.nth(index).locator(".jp-InputPrompt").first
            prompt.scroll_into_view_if_needed()
            prompt.click()
            self.page.keyboard.press("Control+Enter")
        self.wait_for_cells(set(indexes), timeout, f"running cells {[i + 1 for i in indexes]}")
        self._mark(f"run {len(indexes)} cells", t)

    def widget(self, css: str, timeout: float = 20):
        """The rendered widget with CSS class ``css`` in the notebook's outputs, scrolled into view."""
        loc = self.page.locator(f".jp-OutputArea-output .{css.lstrip('.')}").first
        loc.wait_for(state="visible", timeout=timeout * 1000)
        loc.scroll_into_view_if_needed()
        return loc

    def wait_js(self, expression: str, arg, what: str, timeout: float = 15) -> None:
        """Wait until the JS ``expression`` (a function of ``arg``) is true; else fail saying ``what`` was awaited."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(expression, arg=arg, timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise AssertionError(f"waited {timeout:.0f} s: {what}") from None

    def settled_text(self, locator, quiet: float = 1.0, timeout: float = 20) -> str:
        """``locator``'s text once the kernel is idle and the text has not changed for ``quiet`` seconds.

        Widgets that update live (a prediction while the pen moves) show intermediate values; a test reads
        what the learner sees when everything has arrived.
        """
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while True:
            text = locator.inner_text().strip()
            state = self.state()
            idle = bool(state) and state["status"] == "idle" and self.server.kernel_state(self.notebook) == "idle"
            if text != last or not idle:
                last, since = text, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{locator} kept changing or the kernel stayed busy for {timeout} s: {text!r}")
            time.sleep(0.2)

    def set_slider(self, root, description: str, value: int) -> None:
        """Type ``value`` into the readout of the slider labelled ``description`` (inside ``root``), then Enter.

        The readout of an ipywidgets 8 slider is editable text; typing there is how a learner sets an exact value.
        """
        label = self.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))
        slider = root.locator(".widget-slider", has=label).first
        readout = slider.locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")
        self.page.wait_for_function("([el, v]) => el.textContent.trim() === v",
                                    arg=[readout.element_handle(), str(value)], timeout=10_000)

    def screenshot(self) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', self.name)}.png"
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def lab(lab_server, browser, request):
    """A fresh browser page on the session's JupyterLab; sessions and kernels cleaned before and after."""
    lab_server.clean()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
    session = Lab(lab_server, page, request.node.name)
    try:
        yield session
    finally:
        try:
            _screenshots.append((request.node.nodeid, session.screenshot()))
        except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the test's own result
            print(f"no screenshot: {exc}")
        session.timings["total"] = round(time.monotonic() - session._t0, 1)
        _timings.append((request.node.nodeid, session.timings))
        if console:
            print("browser console errors:\n" + "\n".join(console[-20:]))
        context.close()
        lab_server.clean()


def course_notebook(number: str) -> Path | None:
    """The path of notebooks/NN_*.ipynb in the repo, or None."""
    found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    return found[0] if found else None


def pytest_configure(config):
    config.addinivalue_line("markers", "notebook(number): the browser test needs notebooks/<number>_*.ipynb; "
                                       "it skips (fails under COURSE_REQUIRE_BROWSER=1) while that is missing")


def pytest_runtest_setup(item):
    """Before any fixture starts JupyterLab: skip (or fail in CI) when the test's notebook is missing."""
    marker = item.get_closest_marker("notebook")
    if marker and course_notebook(marker.args[0]) is None:
        _unavailable(f"notebooks/{marker.args[0]}_*.ipynb does not exist yet")


@pytest.fixture
def notebook(request) -> Path:
    """The path (in the repo) of the notebook named by the test's ``@pytest.mark.notebook("NN")``."""
    return course_notebook(request.node.get_closest_marker("notebook").args[0])


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.section("browser tests: seconds per phase")
        for nodeid, timings in _timings:
            terminalreporter.write_line(f"{nodeid.split('::')[-1]:55s} " +
                                        "  ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    if _screenshots:
        terminalreporter.section("browser tests: screenshots of each test's final state")
        for nodeid, path in _screenshots:
            terminalreporter.write_line(f"{nodeid.split('::')[-1]:55s} {path}")
