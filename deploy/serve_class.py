"""A classroom server: N replicas of the app behind HAProxy, started, watched and stopped by one command.

    python -m deploy.serve_class [--replicas 2] [--port 8501] [--address 0.0.0.0] [--replica-port PORT+1]
                                 [--log-requests]          (or: make serve-class REPLICAS=2 PORT=8501)

Starts N replicas (`python -m app`, as `make run` starts it, on 127.0.0.1 and the ports from --replica-port on),
waits until each answers /_stcore/health, writes the HAProxy configuration (deploy/haproxy.cfg.in, filled in) into a
temporary folder and runs `haproxy -f <it> -db` in front of them on --address:--port. A learner's browser sticks to one
replica by HAProxy's SERVERID cookie: Streamlit keeps a session's media files and uploads in the process that made
them. The replicas are told the proxy's address (browser.serverAddress / browser.serverPort), so that their "Join from
a phone" panel shows the address students open, not the replica's own.

Every replica gets the class store's setting, VIT_CLASS_STORE (app/lessons/store.py): the one in this environment,
or else the default SQLite file, as an absolute path, so that all replicas share one class store.

Every line a replica or HAProxy prints comes out here, after its name ("replica 2 | …"). A replica that stops is
reported in plain words and not restarted: HAProxy sends its learners, and every new one, to the replicas left.
Ctrl-C, SIGTERM or SIGHUP stops HAProxy, then every replica (SIGTERM, SIGKILL after 15 s), and removes the temporary
folder; if this process is killed outright, the kernel kills the children (Linux). docs/DEPLOY.md.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import ipaddress
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from app import serve
from app.lessons import store as class_store

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg.in"
MAX_REPLICAS = 32
HEALTH = "/_stcore/health"
START_TIMEOUT = 180.0  # seconds for a replica to answer its health check, and for HAProxy to answer through itself
STOP_TIMEOUT = 15.0
JOIN_COMMAND = "make serve-class ADDRESS=0.0.0.0"
# --log-requests: one line per request, with the replica that served it and the SERVERID cookie the browser sent
LOG_FORMAT = '"%ci:%cp %b/%s %ST %B %Ta ms cookie=%hr %{+Q}r"'
EMPTY = "\0"  # a template line left empty: dropped from the rendered file


def replica_name(i: int) -> str:
    """HAProxy's name of replica i (from 1), also the value of its SERVERID cookie."""
    return f"replica{i}"


def bind_spec(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def render(address: str, port: int, replica_ports: list[int], log_requests: bool = False) -> str:
    """The HAProxy configuration: listen on address:port, one server line per replica port (127.0.0.1)."""
    servers = "\n".join(f"    server {replica_name(i)} 127.0.0.1:{p} cookie {replica_name(i)}"
                        for i, p in enumerate(replica_ports, start=1))
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        bind=bind_spec(address, port), servers=servers,
        global_log="    log stdout format raw local0 info" if log_requests else EMPTY,
        defaults_log=f"    log global\n    log-format {LOG_FORMAT}" if log_requests else EMPTY,
        capture="    http-request capture req.cook(SERVERID) len 32" if log_requests else EMPTY)
    return "\n".join(line for line in text.splitlines() if line != EMPTY) + "\n"


# ---- the command line: everything a person types is checked, and answered in words (exit code 2) ------------------
def whole_number(low: int, high: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number from {low} to {high}, not {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}, not {value}")
        return value
    return parse


def ip_address(text: str) -> str:
    if text.strip().lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address. Use 0.0.0.0 (every network of this computer: students can join), "
            "127.0.0.1 (this computer only) or one of this computer's addresses")


def bind_problem(address: str, port: int) -> str | None:
    """Why HAProxy or a replica could not listen on address:port now, in words; None if it could."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
            s.listen(1)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return f"port {port} on {address} is already in use (another server, or a class server still running?)"
        if e.errno == errno.EADDRNOTAVAIL:
            return f"{address} is not an address of this computer"
        if e.errno == errno.EACCES:
            return f"port {port} needs root (ports below 1024 do): choose 1024 or above"
        return f"cannot listen on {address}:{port}: {e.strerror or e}"
    return None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deploy.serve_class", allow_abbrev=False,
                                description="N replicas of the ViT Explainer behind HAProxy (docs/DEPLOY.md).")
    p.add_argument("--replicas", type=whole_number(1, MAX_REPLICAS, "--replicas"), default=2,
                   help=f"how many app processes (1 to {MAX_REPLICAS}; about one per core, docs/DEPLOY.md)")
    p.add_argument("--port", type=whole_number(1, 65535, "--port"), default=8501,
                   help="the port students open (HAProxy's)")
    p.add_argument("--address", type=ip_address, default="0.0.0.0",
                   help="where HAProxy listens: 0.0.0.0 every network (the default), 127.0.0.1 this computer only")
    p.add_argument("--replica-port", type=whole_number(1, 65535, "--replica-port"),
                   help="the first replica's port on 127.0.0.1, the next ones follow (default: --port + 1)")
    p.add_argument("--log-requests", action="store_true",
                   help="print one line per request: which replica served it, and the SERVERID cookie sent")
    p.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy", help="the haproxy program")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser()
    args = p.parse_args(argv)
    first = args.replica_port or args.port + 1
    args.replica_ports = list(range(first, first + args.replicas))
    if args.replica_ports[-1] > 65535:
        p.error(f"the replicas' ports would run to {args.replica_ports[-1]}, past 65535: choose a lower "
                f"{'--replica-port' if args.replica_port else '--port'}")
    if args.port in args.replica_ports:
        p.error(f"--port {args.port} is also a replica's port ({first} to {args.replica_ports[-1]}): "
                "choose another --replica-port")
    try:
        args.class_store = class_store_setting(os.environ)
    except class_store.StoreSettingError as e:
        p.error(str(e))
    if not (os.access(args.haproxy, os.X_OK) and Path(args.haproxy).is_file()):
        p.error(f"HAProxy not found at {args.haproxy}: install it (sudo apt-get install haproxy, or "
                "scripts/install_system_packages.sh) or give its path with --haproxy")
    for problem in [bind_problem(args.address, args.port),
                    *(bind_problem("127.0.0.1", q) for q in args.replica_ports)]:
        if problem:
            p.error(problem + ": choose other ports with --port or --replica-port")
    return args


# ---- the processes -------------------------------------------------------------------------------------------------
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child between fork and exec: SIGKILL when this process ends, however it ends (PR_SET_PDEATHSIG). Not
    SIGTERM: a replica that stops gracefully prints "Stopping..." into a pipe nobody reads any more, and may hang."""
    LIBC.prctl(1, signal.SIGKILL)


OUTPUT = threading.RLock()  # RLock: a signal handler may print while the main thread prints


def say(*lines: str) -> None:
    with OUTPUT:
        print("\n".join(lines), flush=True)


@dataclass
class Child:
    name: str  # "replica 2", "haproxy"
    command: list[str]
    url: str = ""  # where its health check answers (replicas)
    env: dict[str, str] | None = None  # its environment (None: this process's)
    proc: subprocess.Popen | None = None
    pump: threading.Thread | None = None
    reported: bool = False

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                     bufsize=1,
                                     start_new_session=True,  # Ctrl-C reaches this process only: it stops them
                                     preexec_fn=_die_with_parent if LIBC else None)
        self.pump = threading.Thread(target=self._copy_output, daemon=True)
        self.pump.start()

    def _copy_output(self) -> None:
        for line in self.proc.stdout:
            say(f"{self.name} | {line.rstrip()}")

    def how_it_ended(self) -> str:
        code = self.proc.returncode
        return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"

    def stop(self, deadline: float) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {STOP_TIMEOUT:.0f} s: killed")
                self.proc.kill()
                self.proc.wait()
        if self.pump is not None:
            self.pump.join(5)


def replica_command(port: int, browser_address: str | None, browser_port: int) -> list[str]:
    """A replica as `make run` starts the app (`python -m app`, app/serve.py), on 127.0.0.1 only; its join panel shows
    the proxy's address when students can reach it."""
    join = ["--browser.serverAddress", browser_address, "--browser.serverPort", str(browser_port)] \
        if browser_address else []
    return [sys.executable, "-m", "app", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--logger.hideWelcomeMessage", "true", *join]


def class_store_setting(environ) -> str:
    """VIT_CLASS_STORE for every replica: the one in `environ`, else the default SQLite file (var/ in the repository),
    a relative SQLite path made absolute. StoreSettingError for anything but sqlite:///PATH or redis://HOST:PORT/DB."""
    return class_store.resolved(class_store.setting(environ))


def replica_children(args: argparse.Namespace, browser_address: str | None) -> list[Child]:
    """One Child per replica port, each with this environment and the class store's setting (args.class_store)."""
    env = {**os.environ, class_store.ENV: args.class_store}
    return [Child(f"replica {i}", replica_command(q, browser_address, args.port), f"http://127.0.0.1:{q}", env=env)
            for i, q in enumerate(args.replica_ports, start=1)]


def join_address(address: str, lan: str | None) -> str | None:
    """The address students open, for the replicas' join panel: this computer's network address when HAProxy listens
    on every interface, the address it listens on otherwise; None when students cannot reach it (loopback, or no
    network: the panel then says why)."""
    if address in serve.WILDCARDS:
        return lan
    return None if serve.is_loopback(address) else address


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class ClassServer:
    args: argparse.Namespace
    replicas: list[Child] = field(default_factory=list)
    haproxy: Child | None = None
    folder: str = ""
    stop_signal: int | None = None

    def on_signal(self, signum, frame) -> None:
        if self.stop_signal is None:
            say("", f"{signal.Signals(signum).name}: stopping HAProxy and the replicas…")
        self.stop_signal = signum

    def wait_healthy(self, child: Child, url: str) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while self.stop_signal is None and time.monotonic() < deadline:
            if healthy(url):
                return True
            if child.proc.poll() is not None:
                say(f"{child.name} {child.how_it_ended()} while starting: see its lines above.")
                return False
            time.sleep(0.2)
        if self.stop_signal is None:
            say(f"{child.name} did not answer {url}{HEALTH} within {START_TIMEOUT:.0f} s.")
        return False

    def start(self) -> bool:
        a = self.args
        lan = serve.network_address() if a.address in serve.WILDCARDS else None
        browser = join_address(a.address, lan)
        self.replicas = replica_children(a, browser)
        ports = f"ports {a.replica_ports[0]}–{a.replica_ports[-1]}" if len(a.replica_ports) > 1 \
            else f"port {a.replica_ports[0]}"
        say(f"Starting {len(self.replicas)} replica{'s' if len(self.replicas) > 1 else ''} of the app on 127.0.0.1, "
            f"{ports}…")
        for r in self.replicas:
            r.start()
        if not all(self.wait_healthy(r, r.url) for r in self.replicas):
            return False
        self.folder = tempfile.mkdtemp(prefix="vit-class-")
        cfg = Path(self.folder) / "haproxy.cfg"
        cfg.write_text(render(a.address, a.port, a.replica_ports, a.log_requests), encoding="utf-8")
        self.haproxy = Child("haproxy", [a.haproxy, "-f", str(cfg), "-db"])
        self.haproxy.start()
        probe = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(a.address, a.address)
        if not self.wait_healthy(self.haproxy, serve.url(probe, a.port).rstrip("/")):
            return False
        where = serve.addresses(a.address, a.port, lan=lan)
        if where.why_not == "localhost_only":
            where = replace(where, command=JOIN_COMMAND + (f" PORT={a.port}" if a.port != 8501 else ""))
        n = len(self.replicas)
        say(*welcome(where, n), "  " + ", ".join(f"{r.name}: {r.url}/ (pid {r.proc.pid})" for r in self.replicas)
            + f"; HAProxy pid {self.haproxy.proc.pid}.",
            f"  Their memory and CPU together: python benchmarks/classroom.py --url {where.local.rstrip('/')} "
            f"--pid {os.getpid()}",
            f"  The class store, shared by every replica: {class_store.ENV}={a.class_store}",
            "  Ctrl-C stops them all.", "")
        return True

    def watch(self) -> int:
        """Until a signal: report a replica that stops; give up when HAProxy or every replica has stopped."""
        while self.stop_signal is None:
            if self.haproxy.proc.poll() is not None:
                say(f"HAProxy {self.haproxy.how_it_ended()}: nobody can reach the app now. Stopping the replicas.")
                return 1
            for r in self.replicas:
                if r.proc.poll() is not None and not r.reported:
                    r.reported = True
                    left = sum(x.proc.poll() is None for x in self.replicas)
                    say("", f"{r.name} ({r.url}/, pid {r.proc.pid}) {r.how_it_ended()}.",
                        "  The learners it served lost their session and picture: their pages reconnect to another "
                        "replica and start afresh.",
                        f"  {left} of {len(self.replicas)} replicas left; HAProxy sends every learner to "
                        f"{'them' if left > 1 else 'it' if left else 'nobody'}.",
                        f"  It is not restarted: to run {len(self.replicas)} again, stop this (Ctrl-C) and start it "
                        "again.", "")
            if all(r.proc.poll() is not None for r in self.replicas):
                say("Every replica has stopped: stopping HAProxy.")
                return 1
            time.sleep(0.25)
        return 0

    def stop(self) -> None:
        if self.haproxy is not None:
            self.haproxy.stop(time.monotonic() + 5)
        deadline = time.monotonic() + STOP_TIMEOUT
        for r in self.replicas:  # all at once, then wait for each
            if r.proc is not None and r.proc.poll() is None:
                r.proc.terminate()
        for r in self.replicas:
            r.stop(deadline)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def welcome(where: serve.Addresses, n: int) -> list[str]:
    lines = serve.welcome_lines(where, f"The ViT Explainer is running: {n} replica{'s' if n > 1 else ''} "
                                       "behind HAProxy.")
    return lines[:-1]  # the replicas' line follows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = ClassServer(args)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, server.on_signal)
    code = 1
    try:
        if server.start():
            code = server.watch()
        elif server.stop_signal is not None:
            code = 0
    finally:
        server.stop()
    say("Stopped: HAProxy and every replica.")
    return code


if __name__ == "__main__":
    sys.exit(main())
