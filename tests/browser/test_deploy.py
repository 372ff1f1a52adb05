"""The classroom server (deploy/, docs/DEPLOY.md): N replicas of the app behind HAProxy, one sticky session each.

Unit tests: the HAProxy configuration (cookie insert, websocket timeouts, health checks on /_stcore/health, one server
line per replica; `haproxy -c` accepts it), the command line's answers to bad arguments (exit code 2, no traceback)
and the Kubernetes manifests' affinity and probes (read, not run). Then the real thing: `python -m deploy.serve_class
--replicas 2` with HAProxy's request log, driven by Chromium and by the benchmarks' protocol client; a replica killed
(said in words, new learners still served); SIGTERM, Ctrl-C and a killed serve_class leave no process behind.

The tests that share the running class server run in file order: the last two stop a replica, then the server.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import serve
from app.lessons import store as class_store
from app.steps import step
from harness.server import children as process_tree, free_port
from deploy import serve_class

from harness.browser import assert_no_exception, settle, settle_fully, upload
from tests.conftest import ROOT

HAPROXY = serve_class.parser().get_default("haproxy")
SERVER_LINE = re.compile(r"^\s*server (\S+) 127\.0\.0\.1:(\d+) cookie (\S+)\s*$", re.M)
# --log-requests: "<client> replicas/<server> <status> <bytes> <ms> ms cookie={<SERVERID sent>} "<request line>""
LOG_LINE = re.compile(r'^haproxy \| \S+ replicas/(\S+) (-?\d+) \S+ \S+ ms cookie=\{([^}]*)\} "(\S+) (\S+)')


# ---- the configuration ---------------------------------------------------------------------------------------------
def test_the_config_sticks_by_cookie_proxies_websockets_and_checks_health():
    cfg = serve_class.render("0.0.0.0", 8501, [8502, 8503, 8504])
    lines = [line.split("#")[0].strip() for line in cfg.splitlines()]
    assert "bind 0.0.0.0:8501" in lines
    assert "cookie SERVERID insert indirect nocache httponly" in lines
    assert not [line for line in lines if line.startswith("balance source") or "src" in line.split()]  # not by IP
    tunnel = [line.split()[-1] for line in lines if line.startswith("timeout tunnel")]
    assert tunnel == ["1h"]  # a websocket lasts a lesson; without it, `timeout client` (60 s) would cut idle tabs
    assert "option httpchk" in lines and "http-check send meth GET uri /_stcore/health" in lines
    assert "http-check expect status 200" in lines and "default-server check inter 3s fall 3 rise 2" in lines
    servers = SERVER_LINE.findall(cfg)
    assert servers == [("replica1", "8502", "replica1"), ("replica2", "8503", "replica2"),
                       ("replica3", "8504", "replica3")]  # one per replica, on loopback, its cookie its name
    assert "log" not in " ".join(lines).split() and "capture" not in cfg  # quiet unless asked
    logged = serve_class.render("::", 9000, [9001], log_requests=True)
    assert "bind [::]:9000" in logged and "http-request capture req.cook(SERVERID) len 32" in logged
    assert "log stdout format raw local0 info" in logged and len(SERVER_LINE.findall(logged)) == 1


@pytest.mark.parametrize("address, log_requests", [("0.0.0.0", False), ("::", True), ("127.0.0.1", True)])
def test_haproxy_accepts_the_rendered_config(tmp_path, address, log_requests):
    assert Path(HAPROXY).exists(), f"HAProxy not found at {HAPROXY}: scripts/install_system_packages.sh installs it"
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(serve_class.render(address, 8501, [8502, 8503], log_requests))
    check = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WARNING" not in check.stdout + check.stderr and "ALERT" not in check.stdout + check.stderr


@pytest.mark.parametrize("address, lan, expected", [
    ("0.0.0.0", "10.0.0.7", "http://10.0.0.7:8501/"), ("::", "10.0.0.7", "http://10.0.0.7:8501/"),
    ("192.168.1.5", None, "http://192.168.1.5:8501/"), ("0.0.0.0", None, None), ("127.0.0.1", "10.0.0.7", None)])
def test_the_replicas_join_panel_shows_the_address_students_open(address, lan, expected):
    """A replica listens on 127.0.0.1:<its port>; its "Join from a phone" must show HAProxy's address instead."""
    command = serve_class.replica_command(8502, serve_class.join_address(address, lan), 8501)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    told = {k: command[command.index(k) + 1] for k in ("--browser.serverAddress", "--browser.serverPort")
            if k in command}
    seen = serve.addresses("127.0.0.1", 8502, server_address=told.get("--browser.serverAddress"),
                           server_port=int(told["--browser.serverPort"]) if told else None)
    assert seen.network == expected


# ---- the command line ----------------------------------------------------------------------------------------------
def free_ports(n: int) -> int:
    """The first of n consecutive ports free on 127.0.0.1 now."""
    for _ in range(100):
        first = free_port()
        if first + n <= 65535 and not any(serve_class.bind_problem("127.0.0.1", first + k) for k in range(n)):
            return first
    raise RuntimeError(f"no {n} consecutive free ports")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.serve_class", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


BAD = [
    (["--replicas", "0"], "--replicas must be from 1 to 32, not 0"),
    (["--replicas", "two"], "--replicas must be a whole number from 1 to 32, not 'two'"),
    (["--replicas", "100"], "--replicas must be from 1 to 32, not 100"),
    (["--port", "70000"], "--port must be from 1 to 65535, not 70000"),
    (["--port", "0"], "--port must be from 1 to 65535, not 0"),
    (["--port", "-1"], "--port must be from 1 to 65535, not -1"),
    (["--port", "65535"], "the replicas' ports would run to 65537, past 65535"),
    (["--port", "9000", "--replica-port", "8999"], "--port 9000 is also a replica's port"),
    (["--address", "school-server"], "'school-server' is not an IP address"),
    (["--address", "192.0.2.1", "--port", "{free}"], "192.0.2.1 is not an address of this computer"),
    (["--port", "{busy}", "--address", "127.0.0.1"], "is already in use"),
    (["--port", "{free}", "--replica-port", "{busy}"], "is already in use"),
    (["--haproxy", "/nonexistent/haproxy"], "HAProxy not found at /nonexistent/haproxy"),
    (["--replica", "2"], "unrecognized arguments"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_arguments_get_a_clear_message_and_exit_code_2(args, message, busy_port):
    args = [a.format(free=free_port(), busy=busy_port) for a in args]
    if "--haproxy" not in args:
        args += ["--haproxy", HAPROXY]
    done = run_cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "usage: python -m deploy.serve_class" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and "Starting" not in done.stdout  # nothing was started


# ---- the class store: one setting for every replica ----------------------------------------------------------------
@pytest.mark.parametrize("setting, expected", [
    (None, f"sqlite:///{ROOT}/var/class-store.sqlite3"), ("", f"sqlite:///{ROOT}/var/class-store.sqlite3"),
    ("sqlite:///lessons/class.sqlite3", "sqlite:///{cwd}/lessons/class.sqlite3"),
    ("sqlite:////srv/class.sqlite3", "sqlite:////srv/class.sqlite3"), ("redis://10.0.0.5:6379/1", None)])
def test_every_replica_gets_the_same_class_store(setting, expected, monkeypatch, tmp_path):
    """VIT_CLASS_STORE as set (a relative SQLite path made absolute: the replicas run in the repository's root), or the
    default SQLite file: the same for every replica, beside the rest of this environment."""
    monkeypatch.chdir(tmp_path)
    environ = {"PATH": os.environ["PATH"]} | ({} if setting is None else {class_store.ENV: setting})
    monkeypatch.setattr(os, "environ", environ)
    args = argparse.Namespace(port=8501, replica_ports=[8502, 8503, 8504],
                              class_store=serve_class.class_store_setting(environ))
    children = serve_class.replica_children(args, None)
    assert len(children) == 3
    expected = (expected or setting).format(cwd=tmp_path)
    for child in children:
        assert child.env == {"PATH": os.environ["PATH"], class_store.ENV: expected}, child.name


def test_a_bad_class_store_setting_is_refused_before_anything_starts():
    done = run_cli("--port", str(free_port()), "--haproxy", HAPROXY,
                   env={**os.environ, class_store.ENV: "postgres://db/classes"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "VIT_CLASS_STORE must be sqlite:///PATH" in done.stderr and "'postgres://db/classes'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and "Starting" not in done.stdout


# ---- Kubernetes: read, not run -------------------------------------------------------------------------------------
def test_the_kubernetes_manifests_stick_by_cookie_and_probe_health():
    import yaml

    k8s = ROOT / "deploy" / "k8s"
    deployment, service, ingress = (yaml.safe_load((k8s / f"{n}.yaml").read_text()) for n in
                                    ("deployment", "service", "ingress"))
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["command"][:3] == ["python", "-m", "app"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert "sessionAffinity" not in service["spec"]  # ClientIP would stick a whole NAT to one pod
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert all("NOT exercised here" in (k8s / n).read_text() for n in ("deployment.yaml", "service.yaml",
                                                                        "ingress.yaml", "redis-deployment.yaml",
                                                                        "redis-service.yaml"))


def test_the_kubernetes_pods_share_one_redis_class_store():
    import yaml

    k8s = ROOT / "deploy" / "k8s"
    app, redis, redis_service, app_service = (yaml.safe_load((k8s / f"{n}.yaml").read_text()) for n in
                                              ("deployment", "redis-deployment", "redis-service", "service"))
    env = {e["name"]: e["value"] for e in app["spec"]["template"]["spec"]["containers"][0]["env"]}
    kind, (host, port, db) = class_store._parse(env[class_store.ENV])
    assert kind == "redis" and host == redis_service["metadata"]["name"] and db == 0
    redis_pod = redis["spec"]["template"]
    assert redis_service["spec"]["selector"].items() <= redis_pod["metadata"]["labels"].items()
    assert not app_service["spec"]["selector"].items() <= redis_pod["metadata"]["labels"].items()  # not the app's
    container = redis_pod["spec"]["containers"][0]
    assert redis_service["spec"]["ports"][0] == {"name": "redis", "port": port, "targetPort": "redis"}
    assert container["ports"][0] == {"name": "redis", "containerPort": 6379}
    assert redis["spec"]["replicas"] == 1 and redis["spec"]["strategy"]["type"] == "Recreate"
    assert container["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert "noeviction" in container["command"]  # answers are never dropped to make room


# ---- the real thing: 2 replicas behind HAProxy ---------------------------------------------------------------------
@dataclass
class ClassServer:
    proc: subprocess.Popen
    out: Path
    url: str
    replica_pids: dict[str, int]  # "replica1" → pid

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def requests(self) -> list[tuple[str, int, str, str, str]]:
        """HAProxy's request log so far: (replica, status, SERVERID cookie sent, method, path)."""
        return [(m[1], int(m[2]), m[3], m[4], m[5]) for m in map(LOG_LINE.match, self.text().splitlines()) if m]

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := re.search(pattern, self.text(), re.M):
                return found
            assert self.proc.poll() is None, f"serve_class exited with {self.proc.returncode}:\n{self.text()}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{self.text()}")


def descendants(pid: int) -> set[int]:
    """Every process under pid (not pid itself), from /proc, as the benchmarks sum a server's memory."""
    return set(process_tree(pid)) - {pid}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_class(out: Path, replicas: int, *extra: str) -> ClassServer:
    port, first = free_port(), free_ports(replicas)
    out_file = open(out, "w")
    proc = subprocess.Popen([sys.executable, "-m", "deploy.serve_class", "--replicas", str(replicas), "--port",
                             str(port), "--address", "127.0.0.1", "--replica-port", str(first), "--haproxy", HAPROXY,
                             *extra], cwd=ROOT, stdout=out_file, stderr=subprocess.STDOUT)
    out_file.close()
    server = ClassServer(proc, out, f"http://127.0.0.1:{port}", {})
    try:
        server.wait_for(r"^  Ctrl-C stops them all\.$", timeout=240)
    except BaseException:
        stop(server)
        raise
    found = re.findall(r"replica (\d+): http://127\.0\.0\.1:\d+/ \(pid (\d+)\)", server.text())
    server.replica_pids = {f"replica{i}": int(pid) for i, pid in found}
    assert len(server.replica_pids) == replicas, server.text()
    return server


def stop(server: ClassServer) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(60)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    server = start_class(tmp_path_factory.mktemp("class") / "serve_class.out", 2, "--log-requests")
    yield server
    stop(server)


def run_async(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API (the session's Chromium) holds this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def serverid(context) -> str:
    return {c["name"]: c["value"] for c in context.cookies()}.get("SERVERID", "")


def open_session(chromium, url: str):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    sent = []  # every HTTP request of this tab to the proxy, to read the cookies it carried
    page.on("request", lambda r: sent.append(r) if r.url.startswith(url) else None)
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=120_000)
    settle_fully(page, 120_000)
    assert_no_exception(page, "first page, through the proxy")
    return context, page, sent


def cookies_sent(requests) -> list[str]:
    """The SERVERID each request carried ("" for none), in order."""
    out = []
    for r in requests:
        jar = dict(part.strip().partition("=")[::2] for part in (r.header_value("cookie") or "").split(";")
                   if "=" in part)
        out.append(jar.get("SERVERID", ""))
    return out


def assert_one_replica(server: ClassServer, cookie: str, expect: tuple[str, ...] = ("/_stcore/stream",)) -> list:
    """Every request the proxy logged with SERVERID=cookie reached that replica, including `expect`."""
    deadline = time.monotonic() + 15  # a websocket is logged when it closes
    while True:
        mine = [r for r in server.requests() if r[2] == cookie]
        missing = [p for p in expect if not any(r[4].startswith(p) for r in mine)]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert not missing, f"no {missing} with SERVERID={cookie} in the proxy's log:\n{server.text()}"
    assert {r[0] for r in mine} == {cookie}, f"requests with SERVERID={cookie} reached {sorted({r[0] for r in mine})}"
    return mine


@pytest.mark.browser
def test_two_browsers_each_get_a_cookie_and_stay_on_their_replica(class_server, chromium):
    a, page_a, sent_a = open_session(chromium, class_server.url)
    b, page_b, sent_b = open_session(chromium, class_server.url)  # while a's websocket holds one replica
    ids = serverid(a), serverid(b)
    assert set(ids) == {"replica1", "replica2"}, f"SERVERID cookies {ids}: both sessions on one replica"
    for page, sent, mine in ((page_a, sent_a, ids[0]), (page_b, sent_b, ids[1])):
        carried = cookies_sent(sent)
        assert carried[0] == "" and set(carried[1:]) == {mine}, carried  # the first answer sets it, all others send it
        page.get_by_role("link", name=step("flatten").title("en")).click()
        settle(page, 90_000)
        assert_no_exception(page, "step 2, through the proxy")
        assert set(cookies_sent(sent)[1:]) == {mine}
    a.close()
    b.close()
    for cookie in ids:
        assert_one_replica(class_server, cookie, ("/_stcore/stream", "/_stcore/health", "/static/"))
    first_answers = [r for r in class_server.requests() if r[2] == ""]
    assert all(r[4] in ("/", "/_stcore/health") for r in first_answers), first_answers  # nothing else lacks it


@pytest.mark.browser
def test_a_lesson_through_the_proxy_upload_attention_step_and_download(class_server, chromium, tmp_path):
    context, page, sent = open_session(chromium, class_server.url)
    mine = serverid(context)
    Image.new("RGB", (90, 60), (200, 30, 30)).save(tmp_path / "red.png")
    upload(page, str(tmp_path / "red.png"))
    page.get_by_text("90×60 pixels as uploaded").first.wait_for(timeout=10_000)
    settle_fully(page, 90_000)
    assert_no_exception(page, "after the upload")
    page.get_by_role("link", name=step("attention").title("en")).click()
    settle_fully(page, 90_000)
    head = page.locator(".vx [data-key='head']")
    before = head.input_value()
    page.locator(".vx button[data-act='next-head']").click()  # ▶: layer 1, head 2, drawn in the browser
    assert head.input_value() != before, "the head did not move"
    page.wait_for_function("() => new URLSearchParams(location.search).get('head') === '2'", timeout=90_000)
    settle(page, 90_000)  # its report went through the proxy
    assert_no_exception(page, "after stepping a head")
    broken = page.evaluate("[...document.querySelectorAll('[data-testid=stMain] img')]"
                           ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"pictures that did not load through the proxy: {broken}"
    with page.expect_download(timeout=90_000) as info:
        page.get_by_role("button", name="Download the whole trace (.npz)").click()
    download = info.value
    assert download.suggested_filename == "red_teaching_trace.npz"
    npz = np.load(download.path(), allow_pickle=False)
    assert npz["attentions"].shape == (6, 1, 4, 50, 50) and npz["model_id"].item() == "teaching"
    assert (npz["view_layer"].item(), npz["view_head"].item()) == (1, 2)
    assert tuple(npz["picture_size"]) == (90, 60)
    assert set(cookies_sent(sent)[1:]) == {mine}
    context.close()
    served = assert_one_replica(class_server, mine, ("/_stcore/stream", "/_stcore/upload_file/", "/media/"))
    assert [r for r in served if r[3] == "PUT" and r[4].startswith("/_stcore/upload_file/") and r[1] == 204]
    assert not [r for r in served if r[1] >= 400], [r for r in served if r[1] >= 400]


def test_every_replica_runs_with_the_one_class_store(class_server):
    """Read from each replica process's own environment (/proc/<pid>/environ), and said in serve_class's welcome."""
    expected = class_store.resolved(class_store.setting(os.environ))
    for name, pid in class_server.replica_pids.items():
        environ = dict(line.split("=", 1) for line in
                       Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0") if "=" in line)
        assert environ.get(class_store.ENV) == expected, name
    assert f"  The class store, shared by every replica: {class_store.ENV}={expected}" in class_server.text()


def test_the_benchmark_client_sticks_to_one_replica_too(class_server):
    from benchmarks import workload as bench
    from harness import stclient

    async def lesson():
        s = stclient.Session(class_server.url, timeout=120)
        try:
            assert not (await s.open()).errors
            assert not (await s.run(page=bench.PATCHES)).errors
            run = await s.upload("upload", "learner.jpg", bench.picture(3))
            assert not run.errors and any("1024×768 pixels as uploaded" in t for t in run.texts())
            assert run.media() and not await s.fetch_media(run)
            return s.cookies.get("SERVERID", ""), run.media()
        finally:
            await s.close()

    mine, media = run_async(lesson())
    assert mine in ("replica1", "replica2")
    assert_one_replica(class_server, mine, ("/_stcore/stream", "/_stcore/upload_file/", "/media/"))
    elsewhere = stclient.Session(class_server.url)
    elsewhere.cookies["SERVERID"] = "replica2" if mine == "replica1" else "replica1"
    assert {elsewhere.http("GET", path)[0] for path in media} == {404}  # why a session must stick: only one has them


@pytest.mark.browser
def test_a_busy_replica_keeps_its_upload_it_is_not_sent_to_the_other(class_server, chromium, tmp_path):
    """docs/DEPLOY.md: a replica busy when an upload arrives (here: stopped with SIGSTOP for 3 s, as a long forward
    pass would hold it) still gets the upload's PUT, answers it when it can, and draws the picture. HAProxy redispatches
    only a request whose connection fails; a busy replica's kernel still accepts it, so the request waits for it."""
    context, page, sent = open_session(chromium, class_server.url)
    mine = serverid(context)
    pid = class_server.replica_pids[mine]
    resumed = threading.Timer(3.0, os.kill, (pid, signal.SIGCONT))

    def stop_then_send(route):
        os.kill(pid, signal.SIGSTOP)  # busy from the moment its upload is on the way
        resumed.start()
        route.continue_()

    page.route("**/_stcore/upload_file/**", lambda route: stop_then_send(route) if route.request.method == "PUT"
               else route.continue_())
    Image.new("RGB", (70, 50), (20, 20, 220)).save(tmp_path / "blue.png")
    try:
        started = time.monotonic()
        upload(page, str(tmp_path / "blue.png"), timeout=90_000)
        waited = time.monotonic() - started
    finally:
        resumed.cancel()
        os.kill(pid, signal.SIGCONT)
    page.get_by_text("70×50 pixels as uploaded").first.wait_for(timeout=10_000)
    assert_no_exception(page, "after an upload to a busy replica")
    assert waited >= 3, f"the upload was answered in {waited:.1f} s, while its replica was stopped for 3 s"
    context.close()
    puts = [r for r in class_server.requests() if r[3] == "PUT" and r[2] == mine]
    assert puts and all(r[0] == mine and r[1] == 204 for r in puts), puts  # answered by its own replica, 204


# ---- a replica that dies, and stopping ---------------------------------------------------------------------------
def test_a_replica_that_dies_is_reported_and_new_learners_go_to_the_others(class_server):
    from harness import stclient

    os.kill(class_server.replica_pids["replica2"], signal.SIGKILL)
    said = class_server.wait_for(r"^replica 2 \(.*\) was killed by SIGKILL\.$")
    assert said
    class_server.wait_for(r"^  1 of 2 replicas left; HAProxy sends every learner to it\.$")
    class_server.wait_for(r"Server replicas/replica2 is DOWN", timeout=30)

    async def learner(cookie: str | None):
        s = stclient.Session(class_server.url, timeout=120)
        if cookie:
            s.cookies["SERVERID"] = cookie  # a tab that was on replica 2 reconnects
        try:
            run = await s.open()
            return run.errors, s.cookies.get("SERVERID")
        finally:
            await s.close()

    assert run_async(learner(None)) == ([], "replica1")
    assert run_async(learner("replica2")) == ([], "replica1")  # a new cookie: the session starts afresh there
    assert class_server.proc.poll() is None  # the class goes on


def config_folder(children: set[int]) -> Path:
    """The temporary folder of HAProxy's configuration, from its command line (haproxy -f <folder>/haproxy.cfg)."""
    cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0") for p in children]
    folders = [Path(args[args.index(b"-f") + 1].decode()).parent for args in cmdlines if b"-f" in args]
    assert len(folders) == 1 and folders[0].exists()
    return folders[0]


def test_sigterm_stops_haproxy_and_every_replica(class_server):
    children = descendants(class_server.proc.pid)
    folders = [config_folder(children)]
    assert len(children) >= 2
    class_server.proc.send_signal(signal.SIGTERM)
    assert class_server.proc.wait(60) == 0
    assert "Stopped: HAProxy and every replica." in class_server.text()
    assert not [p for p in children if alive(p)], "processes left behind"
    assert not folders[0].exists()
    assert serve_class.bind_problem("127.0.0.1", int(class_server.url.rsplit(":", 1)[1])) is None  # port free again


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_ctrl_c_or_a_killed_serve_class_leaves_no_process_behind(tmp_path, how):
    """Ctrl-C in the terminal is SIGINT to serve_class alone (its children run in their own session); killed outright,
    it cannot stop them itself: the kernel kills them (PR_SET_PDEATHSIG)."""
    server = start_class(tmp_path / "out", 1)
    children = descendants(server.proc.pid)
    assert len(children) == 2  # the replica and HAProxy
    folder = config_folder(children)
    try:
        server.proc.send_signal(getattr(signal, how))
        code = server.proc.wait(60)
        deadline = time.monotonic() + 30
        while [p for p in children if alive(p)] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in children if alive(p)], f"left behind after {how}"
        if how == "SIGINT":
            assert code == 0 and "SIGINT: stopping HAProxy and the replicas" in server.text()
            assert not folder.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # killed outright, serve_class could not remove it
        for p in children:
            if alive(p):
                os.kill(p, signal.SIGKILL)
        stop(server)
