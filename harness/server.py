"""The app's real server (`python -m app`, as `make run` starts it) on a free port of 127.0.0.1, for the browser tests,
the benchmarks and the scripts: started, waited on (its /_stcore/health, with the process's own exit as an error),
stopped; and what the benchmarks read of it (its process tree and resident memory).

    with server.running() as srv:      # srv.url, srv.pid, srv.rss_mb()
        ...
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port: int, options: tuple[str, ...] = (), address: str = "127.0.0.1") -> list[str]:
    """The app's server as `make run` starts it (`python -m app`: `streamlit run app/main.py` with TCP_NODELAY, see
    app/serve.py) on `port`; `options` are extra flags such as "--runner.postScriptGC=false"."""
    return [sys.executable, "-m", "app", "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", *options]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)


def wait_healthy(url: str, timeout: float = 120, proc: subprocess.Popen | None = None) -> None:
    """Until the server at `url` answers its health check; an error naming what happened if it exits first or does
    not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the app's server at {url} exited with {proc.returncode} before it answered")
            time.sleep(0.05)
    raise RuntimeError(f"the app's server did not answer its health check on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running(log: Path | None = None, options: tuple[str, ...] = (), env: dict | None = None,
            address: str = "127.0.0.1", root: Path = ROOT):
    """Start the app on a free port (`address`: the interface it listens on; the URL is always 127.0.0.1's), wait
    for its health check, yield a Server, stop it afterwards. `log`: a file for its output (none: discarded). `root`:
    the server's working directory, whose checkout `python -m app` serves (scripts/screenshots.py serves another
    checkout: it passes PYTHONPATH=root in `env` too)."""
    port = free_port()
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command(port, options, address), cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc=proc)
        yield Server(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def children(pid: int) -> list[int]:
    """pid and all its descendants, from /proc."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += [c for c, parent in parents.items() if parent == p]
    return tree


def rss_mb(pid: int) -> float:
    """Resident memory of pid and its children, in MB (10⁶ bytes)."""
    total = 0
    for p in children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 1e6
