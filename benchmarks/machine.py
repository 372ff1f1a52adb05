"""What every benchmark prints first and last: the machine it ran on and whether anything else was running.

    from benchmarks import machine    # machine.header(…), machine.footer(started)

A figure without its machine and its background load is not a figure.
"""
from __future__ import annotations

import os
import platform
import subprocess
import time


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or "?"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "?"


def _ram_gib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def load() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _cpu_ticks() -> dict[int, tuple[int, str]]:
    ticks = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        ticks[int(pid)] = (int(stat[11]) + int(stat[12]), args)  # utime + stime
    return ticks


def busy_processes(threshold: float = 20.0, seconds: float = 1.0) -> list[str]:
    """Other processes that used more than `threshold` % of a core during the last `seconds`."""
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (t1, args) in after.items():
        t0 = before.get(pid, (t1, ""))[0]
        pct = 100 * (t1 - t0) / hz / seconds
        if pct >= threshold and pid != os.getpid():
            busy.append((pct, f"{pct:.0f}% pid {pid}: {args[:100]}"))
    return [line for _, line in sorted(busy, reverse=True)]


def describe() -> str:
    import torch

    return (f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {_lscpu_model()}, "
            f"{_ram_gib():.1f} GiB RAM, Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def header(title: str) -> float:
    print(f"== {title}  ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    print(f"machine: {describe()}")
    print(f"before: {load()}")
    for p in busy_processes():
        print(f"  busy: {p}")
    return time.perf_counter()


def footer(started: float) -> None:
    print(f"after:  {load()}  ({time.perf_counter() - started:.0f} s)")
    for p in busy_processes():
        print(f"  busy: {p}")


def wait_quiet(max_wait: float = 300, threshold: float = 30.0) -> bool:
    """Wait (at most max_wait s) until no other process uses more than threshold % of a core; True if it got quiet."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if not busy_processes(threshold, seconds=2.0):
            return True
    return False


if __name__ == "__main__":  # python benchmarks/machine.py [max seconds to wait for a quiet machine]
    import sys

    print(describe())
    if len(sys.argv) > 1:
        quiet = wait_quiet(float(sys.argv[1]))
        print(f"{'quiet' if quiet else 'still busy'}: {load()}")
        for p in busy_processes():
            print(f"  busy: {p}")
