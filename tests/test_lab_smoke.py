"""`make lab` really starts JupyterLab headless: /lab answers HTTP 200, and the server stops by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_course(tmp_path):
    port = free_port()
    log = (tmp_path / "lab.log").open("w+")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_PORT={port}",
                             "LAB_ARGS=--IdentityProvider.token= --ServerApp.password="],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    status, deadline = None, time.time() + 90
    try:
        while time.time() < deadline and status != 200:
            if proc.poll() is not None:
                break
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5).status
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.seek(0)
    output = log.read()
    assert status == 200, f"/lab did not answer 200; server log:\n{output[-3000:]}"
    assert f"http://127.0.0.1:{port}/lab" in output  # the URL is printed for headless use
    assert proc.returncode is not None
