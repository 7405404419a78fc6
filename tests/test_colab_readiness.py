"""Colab readiness, checked on every notebook (notebooks/NN_*.ipynb) and on the requirements.

- Badge and setup cell come from the template (``utils.notebook_template.drift``).
- No shell commands or ``%`` magics outside the setup cell (they break on a laptop without a shell or in
  another kernel, and hide what a cell does).
- No Google Drive mounts and no accounts (Colab auth, secrets, logins): the course opens and runs as is.
- A notebook that shows a third-party widget (anywidget, ipycanvas...) calls ``env.enable_custom_widgets()``,
  directly or in the ``utils`` module that builds the widget; that call turns on Colab's custom widget manager.
- Nothing reads files outside the repo, the cache or the data directory: a static scan of every code cell
  (and of ``utils/``) for absolute or home paths ('/content', '/home', 'C:\\', '~/'), the home folder, and
  relative paths climbing out of the repo.
- The requirements resolve for CPython 3.12 (Colab) and 3.11 on Colab's platform (Linux x86-64, glibc 2.35),
  wheels only, with ``pip install --dry-run --report``. Needs PyPI: skips when it is unreachable, fails
  instead when ``COURSE_REQUIRE_PYPI=1`` (CI).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import nbformat
import pytest

from utils import env
from utils import notebook_template as template

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = template.notebook_paths()
SETUP_MARK = "# Setup: run this cell first"
#: Widget libraries that Colab renders only through its custom widget manager (core ipywidgets need nothing).
THIRD_PARTY_WIDGETS = ("anywidget", "ipycanvas", "ipyevents", "ipympl", "bqplot", "ipyleaflet", "ipyvolume",
                       "ipydatawidgets")

needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks/NN_*.ipynb yet")
per_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def code_cells(path: Path, with_setup: bool = False) -> list[tuple[int, str]]:
    """(cell number counted from 1, source) of each code cell; the template's setup cell only if asked."""
    nb = nbformat.read(path, as_version=4)
    return [(i + 1, c.source) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (with_setup or not (i == 1 and c.source.startswith(SETUP_MARK)))]


def parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


# ------------------------------------------------------------------------------------ template


@needs_notebooks
@per_notebook
def test_badge_and_setup_cell_come_from_the_template(path):
    assert template.drift(path) == []
    nb = nbformat.read(path, as_version=4)
    assert template.badge_line(path.stem) in nb.cells[0].source, "the badge must open this very notebook in Colab"
    assert nb.cells[1].source.startswith(SETUP_MARK)
    kernelspec = nb.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"Colab starts the kernel named in metadata: {kernelspec}"


# ------------------------------------------------------------------------------ shell and magics

SHELL_CALLS = re.compile(r"\bget_ipython\s*\(|\bos\.system\s*\(|\bos\.popen\s*\(|\bsubprocess\.|\bpty\.spawn")


@needs_notebooks
@per_notebook
def test_no_shell_or_magics_outside_the_setup_cell(path):
    problems = []
    for number, source in code_cells(path):
        for line_no, line in enumerate(source.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("!", "%")):
                problems.append(f"cell {number} line {line_no}: {stripped[:60]!r} (shell command or magic)")
        tree = parse(source)
        if tree is None and not problems:
            problems.append(f"cell {number}: not plain Python")
        if SHELL_CALLS.search(source):
            problems.append(f"cell {number}: runs a shell command ({SHELL_CALLS.search(source).group(0)!r})")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ drive and accounts

ACCOUNTS = re.compile(
    r"google\.colab\s+import\s+[\w\s,()]*\b(drive|auth|userdata)\b"
    r"|google\.colab\.(drive|auth|userdata)\b"
    r"|\bdrive\.mount\s*\(|\bauthenticate_user\s*\(|\buserdata\.get\s*\("
    r"|\bnotebook_login\s*\(|\bhuggingface_hub\b.*\blogin\b|\bwandb\.login\s*\(|\bgetpass\s*\("
    r"|kaggle\.json|\bgoogle\.auth\b|\bgspread\b|\bpydrive")


def account_problems(text: str, where: str) -> list[str]:
    return [f"{where}: {m.group(0)!r}" for m in ACCOUNTS.finditer(text)]


@needs_notebooks
@per_notebook
def test_no_drive_mounts_or_accounts(path):
    problems = []
    for number, source in code_cells(path, with_setup=True):
        problems += account_problems(source, f"cell {number}")
    assert not problems, "Drive mounts / logins make the course depend on an account:\n" + "\n".join(problems)


#: The one place utils/ may mount Drive: the documented opt-in call (a learner types it; nothing calls it).
OPT_IN = (ROOT / "utils" / "env.py", "keep_cache_on_drive")


def without_function(source: str, name: str) -> str:
    """``source`` with the top-level function ``name`` blanked out (the opt-in call's own body)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = node.lineno - 1 - len(node.decorator_list)
            lines[start:node.end_lineno] = ["\n"] * (node.end_lineno - start)
    return "".join(lines)


def utils_source(module: Path) -> str:
    source = module.read_text()
    return without_function(source, OPT_IN[1]) if module == OPT_IN[0] else source


def test_utils_never_mount_drive_or_log_in():
    problems = []
    for module in sorted((ROOT / "utils").rglob("*.py")):
        problems += account_problems(utils_source(module), str(module.relative_to(ROOT)))
    assert not problems, "\n".join(problems)
    assert account_problems(OPT_IN[0].read_text(), "env.py"), "the scan must see the opt-in call's drive.mount"


def test_keeping_the_cache_on_drive_is_never_automatic():
    """Only a learner calls env.keep_cache_on_drive(): no notebook cell and no utils module does."""
    calls = re.compile(r"\bkeep_cache_on_drive\s*\(")
    problems = [f"{p.name} cell {n}" for p in NOTEBOOKS for n, src in code_cells(p, with_setup=True)
                if calls.search(src)]
    for module in sorted((ROOT / "utils").rglob("*.py")):
        source = utils_source(module).replace("def keep_cache_on_drive(", "")
        problems += [str(module.relative_to(ROOT))] * bool(calls.search(source))
    assert not problems, f"keep_cache_on_drive() must stay opt-in: {problems}"


# ------------------------------------------------------------------------------ custom widgets


def imported_modules(tree: ast.AST) -> set[str]:
    """Dotted names of every module a piece of code imports (``from utils import widgets`` -> utils.widgets)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def calls_enable_custom_widgets(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "enable_custom_widgets":
                return True
    return False


def uses_third_party_widgets(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules if m.split(".")[0] in THIRD_PARTY_WIDGETS}


def utils_module_file(name: str) -> Path | None:
    """utils.widgets -> utils/widgets.py (or a package's __init__.py); None for anything else."""
    if not name.startswith("utils."):
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@needs_notebooks
@per_notebook
def test_third_party_widgets_enable_colabs_custom_widget_manager(path):
    trees = [tree for _, source in code_cells(path) if (tree := parse(source)) is not None]
    modules = set().union(*(imported_modules(t) for t in trees)) if trees else set()
    notebook_enables = any(calls_enable_custom_widgets(t) for t in trees)
    problems = []
    direct = uses_third_party_widgets(modules)
    if direct and not notebook_enables:
        problems.append(f"the notebook imports {sorted(direct)} but never calls env.enable_custom_widgets()")
    for name in sorted(modules):
        file = utils_module_file(name)
        if file is None:
            continue
        tree = ast.parse(file.read_text())
        libs = uses_third_party_widgets(imported_modules(tree))
        if libs and not (notebook_enables or calls_enable_custom_widgets(tree)):
            problems.append(f"{file.relative_to(ROOT)} builds {sorted(libs)} widgets, but neither it nor the "
                            "notebook calls env.enable_custom_widgets() (Colab would show nothing)")
    assert not problems, "\n".join(problems)


def test_enable_custom_widgets_turns_on_colabs_manager_only_in_colab(monkeypatch):
    calls = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("on")
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    env.enable_custom_widgets()
    assert calls == ["on"]

    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.delitem(sys.modules, "google.colab.output")
    monkeypatch.delitem(sys.modules, "google")
    monkeypatch.setattr(env, "in_colab", lambda: False)
    env.enable_custom_widgets()
    assert calls == ["on"], "outside Colab nothing may be switched on"


# ------------------------------------------------------------------------------ paths

#: An absolute or home path: '/content/x', '/home/me', 'C:\\data', '~/data', '\\\\server\\share'.
ABSOLUTE = re.compile(r"^(?:/[\w.~-]|~(?:[/\\]|$)|[A-Za-z]:[\\/]|\\\\\w)")
#: Well-known machine folders anywhere in a string ('file:///content/x').
MACHINE = re.compile(r"(?:^|[^\w])(?:/content|/home|/Users|/root|/mnt|/tmp|/work|/kaggle|/gdrive|/drive)(?:/|$)"
                     r"|[A-Za-z]:\\\\")
#: A relative path climbing out of the repo (notebooks run in notebooks/, so '../..' leaves the repo).
CLIMBS = re.compile(r"(?:^|[\\/])\.\.[\\/]\.\.(?:[\\/]|$)")
HOME_CALLS = re.compile(r"\bexpanduser\s*\(|\bPath\.home\s*\(|\bgetenv\s*\(\s*['\"](HOME|USERPROFILE)['\"]"
                        r"|\benviron\s*\[\s*['\"](HOME|USERPROFILE)['\"]|\benviron\.get\s*\(\s*['\"](HOME|USERPROFILE)")
#: System folders utils/ may probe (platform and hardware detection), never course files.
SYSTEM_PROBES = ("/proc/", "/sys/", "/dev/", "/kaggle/working")


def strings(tree: ast.AST) -> list[str]:
    """Every string literal; an f-string as one text with ``{}`` for each replacement field."""
    found, parts = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = ""
            for value in node.values:
                parts.add(id(value))
                text += value.value if isinstance(value, ast.Constant) else "{}"
            found.append(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            found.append(node.value)
    return found


def path_problems(source: str, where: str, allowed: tuple[str, ...] = ()) -> list[str]:
    tree = parse(source)
    texts = strings(tree) if tree is not None else re.findall(r"['\"]([^'\"\n]*)['\"]", source)
    problems = []
    for text in texts:
        if text.startswith(allowed) and allowed:
            continue
        for line in text.splitlines() or [text]:
            if ABSOLUTE.match(line.strip()) or MACHINE.search(line) or CLIMBS.search(line):
                problems.append(f"{where}: path {line.strip()[:70]!r}")
                break
    problems += [f"{where}: reads the home folder ({m.group(0)!r})" for m in HOME_CALLS.finditer(source)]
    return problems


@needs_notebooks
@per_notebook
def test_no_paths_outside_the_repo_cache_or_data(path):
    problems = []
    for number, source in code_cells(path):
        problems += path_problems(source, f"cell {number}")
    assert not problems, ("use paths relative to the repo, env.cache_dir() or utils.data:\n" + "\n".join(problems))


def test_utils_use_no_machine_paths():
    problems = []
    for module in sorted((ROOT / "utils").rglob("*.py")):
        source = utils_source(module)
        found = [p for p in path_problems(source, str(module.relative_to(ROOT)), SYSTEM_PROBES)
                 if "reads the home folder" not in p]  # expanduser on COURSE_DATA_DIR is the learner's own path
        problems += found
    assert not problems, "\n".join(problems)


def test_the_path_scan_catches_what_it_should():
    bad = ["open('/content/drive/MyDrive/x.png')", "np.load('/home/me/mnist.npz')", "Path('~/data')",
           "open(r'C:\\Users\\me\\x.png')", "open('../../secrets.txt')", "Path.home() / 'x'",
           "os.path.expanduser('~')", "url = 'file:///content/x.png'",
           "open(f'/home/{user}/x.png')"]
    good = ["open('../data/README.md')", "print(f'{a} / {b}')", "x / 255", "env.cache_dir('models') / 'm.keras'",
            "print('1/9')", "s = '/'",
            "f'{REPO}/blob/{BRANCH}/notebooks/{stem}.ipynb'", "f'~{n} s'"]
    for source in bad:
        assert path_problems(source, "t"), source
    for source in good:
        assert not path_problems(source, "t"), source


# ------------------------------------------------------------------------------ requirements on 3.12 / 3.11

#: Colab: CPython on Ubuntu 22.04 (glibc 2.35), x86-64. pip does not widen --platform itself, so list every
#: manylinux tag that glibc 2.35 accepts.
COLAB_PLATFORMS = ([f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)]
                   + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"])
REQUIRE_PYPI = os.environ.get("COURSE_REQUIRE_PYPI", "").strip().lower() in {"1", "true", "yes", "on"}


def pypi_unreachable() -> str | None:
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        urllib.request.urlopen(f"{index}/pip/", timeout=10).close()
    except OSError as exc:
        return f"{index} unreachable ({exc})"
    return None


def requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


@pytest.mark.timeout(180)
@pytest.mark.parametrize("python", ["3.12", "3.11"])
def test_requirements_resolve_for_colab_python(python):
    reason = pypi_unreachable()
    if reason:
        if REQUIRE_PYPI:
            pytest.fail(f"{reason} (COURSE_REQUIRE_PYPI=1 makes this a failure)")
        pytest.skip(f"{reason}; set COURSE_REQUIRE_PYPI=1 to make this a failure")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--disable-pip-version-check", "--python-version", python, "--implementation", "cp",
           *[arg for tag in COLAB_PLATFORMS for arg in ("--platform", tag)],
           "--only-binary=:all:", "--timeout", "30", "--report", "-", "-r", str(ROOT / "requirements.txt")]
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=170, cwd=ROOT)
    seconds = time.monotonic() - start
    errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location"))
    assert done.returncode == 0, f"requirements.txt does not resolve for Python {python} (wheels only):\n{errors}"
    report = json.loads(done.stdout)
    chosen = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
              for item in report["install"]}
    missing = [name for name in requirement_names(ROOT / "requirements.txt") if name not in chosen]
    assert not missing, f"not in the resolution: {missing}"
    key = {name: chosen[name] for name in ("tensorflow", "keras", "numpy", "ipywidgets", "anywidget") if name in chosen}
    print(f"Python {python}: {len(chosen)} packages resolve in {seconds:.0f} s; {key}")
