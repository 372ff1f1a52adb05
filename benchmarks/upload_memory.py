"""Peak server memory while pictures are decoded: one picture just under the pixel limit, then a class uploading large
photos at the same moment.

    python benchmarks/upload_memory.py [--cases png64,jpeg64] [--learners 30] [--photo 6000x4000]

Starts the app server (`python -m app`, as `make run` does) and uploads through the browser's protocol
(harness/stclient.py), every session on "1 · Image → patches", whose page draws the upload:
1. each case, alone, into one session: a picture of 8000×7999 = 63.99 megapixels, just under
   vit_core.images.MAX_PIXELS, as a PNG (which cannot be decoded at a reduced scale) and as a JPEG (which can);
2. `--learners` sessions, each uploading its own `--photo` JPEG (a phone photo's size; every one different, so
   every one is decoded and analysed) at the same moment, after all of them have opened page 1;
3. `--png-learners` sessions doing the same with an 8000×7999 PNG each: the worst case for memory, which the
   server's limit on decodes at once (vit_core.images.DECODE_SLOTS) bounds.
The figure is the server's peak resident memory during each phase, above its memory just before: the kernel's own
high-water mark (VmHWM in /proc/<pid>/status, reset through /proc/<pid>/clear_refs before each phase), so no peak
between two samples is missed; where the kernel does not allow the reset, RSS sampled every 5 ms instead.
The pictures are generated here, smooth enough to stay under the upload limit (images.MAX_MB).

A script, not a test: it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: benchmarks, harness, app

from benchmarks import machine, workload  # noqa: E402
from harness import server, stclient  # noqa: E402


def big_picture(kind: str, width: int = 8000, height: int = 7999, seed: int = 0) -> bytes:
    """A picture of width×height: as JPEG, photo-like (benchmarks/workload.picture drawn small and blown up smoothly); as
    PNG, flat shapes of colour (a photo-like PNG this big would be ~50 MB: over the upload limit). Decoding needs the
    same memory whatever the pixels are."""
    from PIL import Image, ImageDraw

    buf = io.BytesIO()
    if kind == "jpeg64":
        small = Image.open(io.BytesIO(workload.picture(7, 1000, 1000, fmt="PNG")))
        small.resize((width, height), Image.BICUBIC).save(buf, "JPEG", quality=85)
        return buf.getvalue()
    im = Image.new("RGB", (width, height), (90, 160, (220 + seed) % 256))  # a different picture for every seed
    draw = ImageDraw.Draw(im)
    for k in range(40):
        x, y = (k * 1973) % width, (k * 3037) % height
        draw.ellipse((x, y, x + 1500, y + 1100), fill=((k * 53) % 256, (k * 97) % 256, (k * 31) % 256))
    im.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def photo(seed: int, size: tuple[int, int]) -> bytes:
    from PIL import Image

    w, h = size
    small = Image.open(io.BytesIO(workload.picture(seed, w // 4, h // 4, fmt="PNG")))
    buf = io.BytesIO()
    small.resize(size, Image.BICUBIC).save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Peak:
    """The server's peak resident memory (MB) from `start()` to `stop()`: the kernel's VmHWM where it can be reset,
    otherwise the highest RSS sampled every 5 ms."""

    def __init__(self, pid: int):
        self.pids = server.children(pid)
        self.before = 0.0
        self._stop = threading.Event()
        self._sampled = 0.0
        self._thread: threading.Thread | None = None

    def _read(self, field: str) -> float:
        total = 0
        for p in self.pids:
            try:
                with open(f"/proc/{p}/status") as f:
                    total += sum(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))
            except OSError:
                continue
        return total / 1e6

    def _reset_hwm(self) -> bool:
        try:
            for p in self.pids:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")  # resets the peak RSS (VmHWM) to the current RSS
            return True
        except OSError:
            return False

    def start(self) -> None:
        self.before = self._read("VmRSS")
        self.kernel = self._reset_hwm()
        self._sampled = self.before
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._sampled = max(self._sampled, self._read("VmRSS"))
            time.sleep(0.005)

    def stop(self) -> tuple[float, float, float]:
        """(RSS before, peak, RSS now) in MB."""
        self._stop.set()
        self._thread.join()
        peak = self._read("VmHWM") if self.kernel else self._sampled
        return self.before, max(peak, self._sampled), self._read("VmRSS")


async def one_at_a_time(srv: server.Server, cases: list[str]) -> None:
    s = stclient.Session(srv.url, timeout=600)
    await s.open()
    await s.run(page=workload.PATCHES)
    peak = Peak(srv.pid)
    for kind in cases:
        data = big_picture(kind)
        peak.start()
        t0 = time.perf_counter()
        run = await s.upload("upload", f"big.{'png' if kind == 'png64' else 'jpg'}", data,
                             mime="image/png" if kind == "png64" else "image/jpeg")
        seconds = time.perf_counter() - t0
        before, top, after = peak.stop()
        shown = next((t for t in run.texts() if "as uploaded" in t), "NOT SHOWN")
        print(f"  {kind}: 8000×7999 ({len(data) / 2**20:.1f} MB file) uploaded and drawn in {seconds:.1f} s; "
              f"server RSS {before:.0f} MB before, peak {top:.0f} MB (+{top - before:.0f} MB), {after:.0f} MB after"
              f" [{'VmHWM' if peak.kernel else 'sampled'}]; errors {run.errors or 'none'}; caption: {shown[:40]!r}",
              flush=True)
    await s.close()


async def class_at_once(srv: server.Server, learners: int, what: str, make) -> None:
    """`learners` sessions on page 1, then each uploads its own picture (make(i) → (name, bytes, mime, (w, h))) at the
    same moment."""
    print(f"  generating {learners} different {what}…", flush=True)
    files = [make(i) for i in range(learners)]
    mb = [len(f[1]) / 2**20 for f in files]
    sessions = [stclient.Session(srv.url, timeout=900) for _ in range(learners)]
    for s in sessions:
        await s.open()
        await s.run(page=workload.PATCHES)
    peak = Peak(srv.pid)
    peak.start()
    t0 = time.perf_counter()
    runs = await asyncio.gather(*(s.upload("upload", name, data, mime=mime) for s, (name, data, mime, _) in
                                  zip(sessions, files)), return_exceptions=True)
    seconds = time.perf_counter() - t0
    before, top, after = peak.stop()
    failed = [r for r in runs if isinstance(r, Exception) or r.errors]
    shown = sum(1 for r, (*_, (w, h)) in zip(runs, files) if not isinstance(r, Exception)
                and any(f"{w}×{h} pixels as uploaded" in t for t in r.texts()))
    print(f"  {learners} learners upload {what} ({min(mb):.1f}–{max(mb):.1f} MB) at once: all drawn after "
          f"{seconds:.1f} s; {shown}/{learners} pages show the size as uploaded; server RSS {before:.0f} MB before, "
          f"peak {top:.0f} MB (+{top - before:.0f} MB), {after:.0f} MB after "
          f"[{'VmHWM' if peak.kernel else 'sampled'}]; "
          f"failed uploads {len(failed)}", flush=True)
    for r in failed[:3]:
        print(f"    {r if isinstance(r, Exception) else r.errors[:2]}")
    for s in sessions:
        await s.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="png64,jpeg64", help="comma-separated: png64, jpeg64 (or empty)")
    parser.add_argument("--learners", type=int, default=30, help="0 to skip the class")
    parser.add_argument("--photo", default="6000x4000", help="each learner's photo, WIDTHxHEIGHT")
    parser.add_argument("--png-learners", type=int, default=6,
                        help="then this many learners upload an 8000×7999 PNG each at once (0 to skip)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.photo.split("x"))
    cases = [c for c in args.cases.split(",") if c]
    started = machine.header(f"upload memory: {', '.join(cases) or 'no big picture'}; {args.learners} learners "
                             f"with {args.photo} photos; {args.png_learners} learners with 64-megapixel PNGs")
    if cases:
        with server.running() as srv:  # a fresh server per phase: the first phase's caches do not count in the second
            asyncio.run(one_at_a_time(srv, cases))
    if args.learners:
        with server.running() as srv:
            asyncio.run(class_at_once(srv, args.learners, f"a {size[0]}×{size[1]} JPEG each",
                                      lambda i: (f"learner_{i}.jpg", photo(100 + i, size), "image/jpeg", size)))
    if args.png_learners:
        with server.running() as srv:
            asyncio.run(class_at_once(srv, args.png_learners, "an 8000×7999 PNG each",
                                      lambda i: (f"learner_{i}.png", big_picture("png64", seed=i), "image/png",
                                                 (8000, 7999))))
    machine.footer(started)


if __name__ == "__main__":
    main()
