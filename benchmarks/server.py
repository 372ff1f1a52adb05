"""The real app server (`python -m app`) on a free port, as tests/test_browser.py starts it, plus what the benchmarks
need around it: the memory of the server (RSS of the process and its children) and generated pictures to upload.

    with server.running() as srv:      # srv.url, srv.pid, srv.rss_mb()
        ...
"""
from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for the app's catalog
from app.i18n import catalog  # noqa: E402
from app.steps import STEPS, step  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
ATTENTION = step("attention").title("en")  # sidebar link texts, from the app's list of steps
PATCHES = STEPS[0].title("en")
LOCAL_FOLDER = catalog("en")["models.local"]  # the model picker's "local" option, as the app words it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port: int, options: tuple[str, ...] = ()) -> list[str]:
    """The app's server as `make run` starts it (`python -m app`: `streamlit run app/main.py` with TCP_NODELAY, see
    app/serve.py) on `port`; `options` are extra flags such as "--runner.postScriptGC=false"."""
    return [sys.executable, "-m", "app", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", *options]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)


def wait_healthy(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running(log: Path | None = None, options: tuple[str, ...] = ()):
    """Start the app on a free port, wait for /_stcore/health, yield a Server, stop it afterwards."""
    port = free_port()
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command(port, options), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
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


def picture(seed: int, width: int = 1024, height: int = 768, fmt: str = "JPEG") -> bytes:
    """A different photo-like picture for every seed: smooth colour fields, a few shapes, some noise."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([np.sin(x / rng.uniform(40, 200) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(40, 200))
                     for _ in range(3)], axis=-1)
    pixels = ((base * 0.5 + 0.5) * 200 + rng.normal(0, 12, base.shape)).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(pixels)
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = rng.integers(0, width - 40), rng.integers(0, height - 40)
        x1, y1 = x0 + rng.integers(20, width // 3), y0 + rng.integers(20, height // 3)
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def b16_checkpoint(folder: Path) -> Path:
    """A random ViT-B/16-shaped checkpoint (224×224, P=16, D=768, 12 × 12 heads, MLP 3072, 1000 classes) in folder."""
    sys.path.insert(0, str(ROOT))
    from vit_core import ViT, ViTConfig, save_model
    from vit_core.model import init_weights

    cfg = ViTConfig(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, labels=tuple(f"class {i}" for i in range(1000)))
    return save_model(init_weights(ViT(cfg), seed=0), folder)


def percentile(xs, q: float) -> float:
    return float(np.percentile(xs, q)) if len(xs) else float("nan")
