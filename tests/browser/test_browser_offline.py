"""A classroom with no Internet, in a real browser: nothing leaves the machine, a missing pre-trained model is
explained at once in the page's language, and a phone joins through the address and QR code in the sidebar.

Two recorders watch the network. The server (`python -m app`, as `make run` starts it, listening on every
interface) runs with RECORDER as its sitecustomize: every name lookup, connect and UDP send of its Python code goes
to a file. Chromium writes its own net log (--log-net-log): every host it resolves, every TCP connection, every
request, whoever made it. Both must show nothing that goes to another host, except the one lookup the user asks
for (a download, pointed at hub.invalid, a name that never resolves) and the one the test makes on purpose from the
page (browser-proof.invalid), which show that the recorders would catch a real one.

A UDP socket that is only "connected" sends nothing (the operating system just picks a route): the server does that
to learn its network address (app/serve.py) and Chromium to learn whether IPv6 works. Bytes sent over UDP count.
"""
from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time

import pytest

from app import serve
from app.numbers import number
from vit_core import hub

from harness import server
from harness.browser import ARTIFACTS, PATHS, assert_no_exception, choose_model, launch, open_page, settle


RECORDER = '''"""Records every name lookup and connection of this Python process: one JSON line each in $NET_RECORD."""
import json
import os
import socket
import threading

_path, _lock = os.environ.get("NET_RECORD"), threading.Lock()


def _record(op, **what):
    with _lock, open(_path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"op": op, "pid": os.getpid(), **what}, default=repr) + "\\n")


def _wrap(owner, name, describe):
    original = getattr(owner, name)

    def recorded(*args, **kwargs):
        _record(name, **describe(*args, **kwargs))
        return original(*args, **kwargs)

    setattr(owner, name, recorded)


def _kind(sock):
    return {socket.SOCK_STREAM: "tcp", socket.SOCK_DGRAM: "udp"}.get(sock.type, str(sock.type))


if _path:
    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        _wrap(socket, _name, lambda host, *a, **k: {"host": host})
    _wrap(socket, "getnameinfo", lambda sockaddr, flags: {"host": sockaddr[0]})
    for _name in ("connect", "connect_ex"):
        _wrap(socket.socket, _name, lambda self, address: {"kind": _kind(self), "address": address})
    _wrap(socket.socket, "sendto", lambda self, data, *a: {"kind": _kind(self), "address": a[-1], "bytes": len(data)})
'''
LOOKUP_ASKED_FOR = "hub.invalid"  # the Hub as the server under test knows it (HF_ENDPOINT): a download never happens
BROWSER_PROOF = "browser-proof.invalid"
# Chromium's own Google services call home whatever the page (sign-in's ListAccounts and the component updater on
# start, Autofill's crowd-sourcing when a page has a text field): they are sent to a closed local port, so that what
# remains in the net log is what the pages caused.
QUIET_CHROMIUM = ["--gaia-url=http://127.0.0.1:9/", "--component-updater=url-source=http://127.0.0.1:9/",
                  "--autofill-server-url=http://127.0.0.1:9/"]


def is_local(host, local: set[str]) -> bool:
    host = str(host or "").strip("[]").lower()
    if host in local or host in ("", "localhost", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(address) -> str:
    """("1.2.3.4", 80) or "1.2.3.4:80" or "[::1]:443" or "http://name:80" → the host part."""
    if isinstance(address, (list, tuple)):
        return str(address[0])
    text = str(address).split("://")[-1].split("/")[0]
    return text.rsplit("]", 1)[0].lstrip("[") if text.startswith("[") else text.rsplit(":", 1)[0]


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def server_traffic(log, local: set[str]) -> list[str]:
    """What the recorded server did that reaches another host: lookups of names, TCP connects, UDP sends."""
    out = []
    for line in (log.read_text().splitlines() if log.exists() else []):
        e = json.loads(line)
        if e["op"] in ("connect", "connect_ex"):
            if e["kind"] != "udp" and not is_local(host_of(e["address"]), local):
                out.append(f"{e['kind']} connect to {e['address']}")
        elif e["op"] == "sendto":
            if not is_local(host_of(e["address"]), local):
                out.append(f"{e['kind']} send to {e['address']}")
        elif e["host"] is not None and not is_ip(str(e["host"])) and not is_local(e["host"], local):
            out.append(f"lookup of {e['host']}")
    return out


def browser_traffic(netlog, local: set[str]) -> list[str]:
    """What Chromium's net log shows going to another host: name lookups, TCP connections, requests, UDP sends."""
    text = netlog.read_text()
    data = json.loads(text if text.rstrip().endswith("}") else text.rstrip().rstrip(",") + "]}")
    names = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    out = set()
    for e in data["events"]:
        name, params = names[e["type"]], e.get("params") or {}
        if name.startswith("HOST_RESOLVER_MANAGER_") and "host" in params:
            found = [("lookup of", host_of(params["host"]))]
        elif name == "DNS_TRANSACTION_QUERY" and "qname" in params:
            found = [("lookup of", params["qname"])]
        elif name == "TCP_CONNECT_ATTEMPT" and "address" in params:
            found = [("tcp connect to", host_of(params["address"]))]
        elif name == "TCP_CONNECT" and "address_list" in params:
            found = [("tcp connect to", host_of(a)) for a in params["address_list"]]
        elif name == "URL_REQUEST_START_JOB" and "url" in params:
            found = [("request to", host_of(params["url"]))]
        elif name == "UDP_BYTES_SENT" and "address" in params:
            found = [("udp send to", host_of(params["address"]))]
        else:
            continue
        out.update(f"{what} {host}" for what, host in found if not is_local(host, local))
    return sorted(out)


def test_the_recorder_catches_a_real_lookup(tmp_path):
    """The server's recorder, pointed at a deliberate lookup and a connection: both are in its log, and the filter
    flags the lookup and a TCP connection to another host but not a local one or a UDP "connect"."""
    (tmp_path / "sitecustomize.py").write_text(RECORDER)
    log = tmp_path / "net.jsonl"
    probe = ("import socket\n"
             "try:\n    socket.getaddrinfo('recorder-proof.invalid', 80)\nexcept OSError:\n    pass\n"
             f"socket.socket().connect_ex(('127.0.0.1', {server.free_port()}))\n"
             "from app import serve\nserve.network_address()\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NET_RECORD": str(log)}
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=60, cwd=serve.MAIN.parent.parent)
    ops = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"op": "getaddrinfo", "host": "recorder-proof.invalid"}.items() <= ops[0].items()
    assert any(e["op"] == "connect_ex" and e["kind"] == "tcp" for e in ops)
    assert any(e["op"] == "connect" and e["kind"] == "udp" for e in ops)  # network_address(): a route, no packet
    assert server_traffic(log, set()) == ["lookup of recorder-proof.invalid"]
    log.write_text(json.dumps({"op": "connect", "kind": "tcp", "address": ["198.51.100.7", 443]}) + "\n")
    assert server_traffic(log, set()) == ["tcp connect to ['198.51.100.7', 443]"]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """`python -m app` on every interface, recorded, with an empty model cache and a Hub that cannot be reached."""
    folder = tmp_path_factory.mktemp("recorded_server")
    (folder / "sitecustomize.py").write_text(RECORDER)
    (folder / "hub").mkdir()
    env = {key: value for key, value in os.environ.items()  # downloads allowed, no proxy in the way: the lookup shows
           if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") and not key.lower().endswith("_proxy")}
    env.update(PYTHONPATH=os.pathsep.join([str(folder), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               NET_RECORD=str(folder / "server_net.jsonl"), HF_HUB_CACHE=str(folder / "hub"),
               HF_ENDPOINT=f"https://{LOOKUP_ASKED_FOR}")
    with server.running(env=env, address="0.0.0.0") as srv:
        yield srv.url, folder


def sidebar_alert(page, text: str):
    return page.locator("[data-testid='stSidebar'] [data-testid='stAlert']", has_text=text)


def open_sidebar(page) -> None:
    button = page.locator("[data-testid='stExpandSidebarButton']")
    if button.count() and button.first.is_visible():
        button.first.click()
        page.wait_for_timeout(500)


def test_a_classroom_without_internet(classroom, chromium, tmp_path):
    url, folder = classroom
    lan = serve.network_address()
    local = {"127.0.0.1", "localhost", "::1", *([lan] if lan else [])}
    ARTIFACTS.mkdir(exist_ok=True)
    netlog = tmp_path / "chromium_net.json"
    browser = launch(chromium.browser_type, *QUIET_CHROMIUM, f"--log-net-log={netlog}", "--net-log-capture-mode=Default")
    requests = []
    try:
        # 1. every page, as a student opens it
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        for name in PATHS:
            open_page(page, url, name)  # by its address, as a shared link opens it; no exception shown
        before_asking = server_traffic(folder / "server_net.jsonl", local)
        context.close()

        # 2. the teacher asks for a pre-trained model that is not on disk, in Korean, with no network
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR")
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.goto(url)
        page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=120_000)
        settle(page)
        entry = hub.get("vit-small-16")
        choose_model(page, f"{entry.name} · {number(entry.size_mb)} MB")
        command = f"python -m vit_core fetch {entry.name}"
        started = time.perf_counter()
        page.locator(".st-key-model_download button").click()
        answer = sidebar_alert(page, "오프라인이라").filter(has_text=entry.name)  # not "not downloaded yet"
        answer.wait_for(timeout=30_000)
        answered = time.perf_counter() - started
        print(f"\nanswer to a download with no network, in the browser: {answered:.2f} s")
        assert "cannot" not in answer.inner_text()  # in the page's language
        settle(page)
        assert page.locator("[data-testid='stSidebar'] [data-testid='stCode']", has_text=command).count() == 1
        picker = page.locator(".st-key-model_choice [role='combobox']").input_value()
        assert "교육용 모델" in picker and entry.name not in picker  # the picker says what the page shows
        page.screenshot(path=str(ARTIFACTS / "offline_model_ko.png"), full_page=True)
        assert answered < 4.0, f"the answer took {answered:.1f} s (the issue asks for 2 s; 4 leaves a margin)"
        after_asking = server_traffic(folder / "server_net.jsonl", local)

        # 3. a student joins from a phone, through the sidebar's address and QR code
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                    locale="ko-KR")
        phone.on("request", lambda r: requests.append(r.url))
        page = phone.new_page()
        page.goto(url)
        page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=120_000)
        settle(page)
        open_sidebar(page)
        panel = page.locator("[data-testid='stSidebar'] [data-testid='stExpander']", has_text="휴대폰으로 참여")
        panel.locator("summary").click()
        page.wait_for_timeout(500)
        if lan:
            shown = panel.locator("strong", has_text="http://").inner_text().strip()
            assert shown == f"http://{lan}:{url.rsplit(':', 1)[1]}/"
            panel.locator("img").nth(1).wait_for(timeout=10_000)  # the panel draws when it opens (its fragment reruns)
            assert panel.locator("img").count() == 2  # the QR codes of the address and of this view, made on the server
            page.screenshot(path=str(ARTIFACTS / "join_phone_ko.png"), full_page=True)
            page.goto(shown)  # the address works from another device's point of view: the network address
            page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=120_000)
            settle(page)
            assert_no_exception(page, "opened from the join address")
        else:
            assert "네트워크에 연결되어 있지 않습니다" in panel.inner_text()

        # 4. the browser's recorder, pointed at a deliberate lookup from the page
        page.evaluate(f"fetch('http://{BROWSER_PROOF}/').catch(() => null)")
        page.wait_for_timeout(1500)
        phone.close()
    finally:
        browser.close()  # writes the end of the net log

    assert before_asking == [], f"the server reached another host: {before_asking}"
    assert after_asking and set(after_asking) == {f"lookup of {LOOKUP_ASKED_FOR}"}, after_asking
    hosts = {r.split("://")[1].split("/")[0].rsplit(":", 1)[0] for r in requests if "://" in r}
    assert {h for h in hosts if not is_local(h, local)} == {BROWSER_PROOF}, hosts
    seen = browser_traffic(netlog, local)
    assert f"lookup of {BROWSER_PROOF}" in seen, "the net log missed a real lookup: is it still recording?"
    assert [s for s in seen if BROWSER_PROOF not in s] == [], f"Chromium reached another host: {seen}"
