"""app/serve.py: the server's sockets have Nagle's algorithm off (every step otherwise waits for a delayed ACK)."""
import socket

import pytest

from streamlit.web.server.starlette import starlette_server

from app import serve


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_streamlits_own_bind_leaves_nagle_on_on_accepted_sockets():
    """The bug this module exists for; when a Streamlit release fixes it, this fails and serve.py can go."""
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)
    try:
        assert listener.proto == 0  # why asyncio does not set TCP_NODELAY itself (it checks proto == IPPROTO_TCP)
        with socket.create_connection(listener.getsockname()):
            listener.setblocking(True)
            conn, _ = listener.accept()
            with conn:
                assert conn.proto == 0 and nodelay(conn) == 0
    finally:
        listener.close()


def test_patched_bind_gives_accepted_sockets_tcp_nodelay(monkeypatch):
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)  # undone after the test
    assert serve.patch_streamlit_bind()
    assert serve.patch_streamlit_bind()  # twice is harmless: it does not wrap the wrapper
    assert getattr(starlette_server._bind_socket, "sets_no_delay", False)
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)
    try:
        assert nodelay(listener)
        with socket.create_connection(listener.getsockname()):
            listener.setblocking(True)
            conn, _ = listener.accept()
            with conn:
                assert nodelay(conn), "accepted sockets do not inherit TCP_NODELAY on this platform"
    finally:
        listener.close()


def test_no_delay_leaves_other_sockets_alone():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        assert serve.no_delay(udp) is udp


def test_a_streamlit_without_the_private_bind_is_reported_not_broken(monkeypatch, caplog):
    monkeypatch.delattr(starlette_server, "_bind_socket")
    assert not serve.patch_streamlit_bind()
    assert "TCP_NODELAY not set" in caplog.text


# ---- nothing leaves the machine: Streamlit's start-up banner and the addresses the app gives students ----

def test_streamlit_no_longer_asks_the_internet_for_this_machines_address(monkeypatch, capsys):
    from streamlit import net_util
    from streamlit.web import bootstrap

    for module, name in ((net_util, "get_external_ip"), (net_util, "get_internal_ip"), (bootstrap, "_print_url")):
        monkeypatch.setattr(module, name, getattr(module, name))  # undone after the test
    asked = []
    monkeypatch.setattr(net_util, "_make_blocking_http_get", lambda url, timeout=5: asked.append(url))
    monkeypatch.setattr(net_util, "_external_ip", None)
    net_util.get_external_ip()
    assert asked == ["http://checkip.amazonaws.com", "https://checkip.amazonaws.com"]  # what Streamlit does itself

    asked.clear()
    assert serve.keep_streamlit_offline()
    assert net_util.get_external_ip() is None and not asked
    assert net_util.get_internal_ip is serve.network_address and bootstrap._print_url is serve.print_urls
    bootstrap._print_url(False)
    out = capsys.readouterr().out
    assert "On this computer:  http://" in out and "External URL" not in out and not asked


def test_a_streamlit_without_those_functions_is_reported(monkeypatch, caplog):
    from streamlit.web import bootstrap

    monkeypatch.delattr(bootstrap, "_print_url")
    assert not serve.keep_streamlit_offline()
    assert "checkip.amazonaws.com" in caplog.text


def test_network_address_sends_nothing_and_is_not_loopback(monkeypatch):
    sent = []
    monkeypatch.setattr(socket.socket, "send", lambda self, *a: sent.append(a))
    monkeypatch.setattr(socket.socket, "sendto", lambda self, *a: sent.append(a))
    address = serve.network_address()
    assert address is None or not serve.is_loopback(address)
    assert not sent

    def no_route(self, address):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", no_route)
    assert serve.network_address() is None


@pytest.mark.parametrize("how, expected", [
    (dict(address="", port=8501, lan="192.168.1.20"), ("http://localhost:8501/", "http://192.168.1.20:8501/", "")),
    (dict(address="0.0.0.0", port=8502, lan="10.0.0.7"), ("http://localhost:8502/", "http://10.0.0.7:8502/", "")),
    (dict(address="::", port=8501, lan=None), ("http://localhost:8501/", None, "no_network")),
    (dict(address="127.0.0.1", port=8501, lan="192.168.1.20"), ("http://127.0.0.1:8501/", None, "localhost_only")),
    (dict(address="localhost", port=8600), ("http://localhost:8600/", None, "localhost_only")),
    (dict(address="::1", port=8501), ("http://[::1]:8501/", None, "localhost_only")),
    (dict(address="192.168.1.20", port=8501), ("http://192.168.1.20:8501/", "http://192.168.1.20:8501/", "")),
    (dict(address="", port=8501, base="/vit/", server_address="class.example", server_port=443),
     ("http://localhost:8501/vit/", "https://class.example/vit/", "")),
    (dict(address="127.0.0.1", port=8501, server_address="localhost", server_port=8501),
     ("http://127.0.0.1:8501/", None, "localhost_only")),
], ids=lambda v: str(v.get("address", "")) + (f"+{v['server_address']}" if v.get("server_address") else "")
    if isinstance(v, dict) else None)
def test_addresses_follow_how_the_server_is_served(how, expected):
    a = serve.addresses(**how)
    assert (a.local, a.network, a.why_not) == expected
    if a.why_not == "localhost_only":
        assert a.command.startswith("python -m app --server.address 0.0.0.0")
        assert ("--server.port" in a.command) == (how["port"] != 8501)


def test_current_addresses_read_streamlits_config(monkeypatch):
    from streamlit import config

    options = {"server.address": "127.0.0.1", "server.port": 8777, "server.baseUrlPath": "", "server.sslCertFile": None}
    monkeypatch.setattr(config, "get_option", options.__getitem__)
    monkeypatch.setattr(config, "is_manually_set", lambda key: False)
    assert serve.current_addresses() == serve.Addresses("http://127.0.0.1:8777/", None, "localhost_only",
                                                        "python -m app --server.address 0.0.0.0 --server.port 8777")


def join_page():
    import streamlit as st

    from app import join, links

    links.share(lang=st.session_state.get("lang"), image="fubao_28", model="teaching")
    links.showing(st.session_state.get("page", ""))
    if st.session_state.get("page") == "attention":  # the explorer's own writer (app/steps/attention.py)
        links.write(key="url_state_attention", layer=3, head=2, query=17)
    join.join_panel()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_join_panel(monkeypatch, lang):
    from streamlit.testing.v1 import AppTest

    from app.i18n import catalog

    words = catalog(lang)
    at = AppTest.from_function(join_page)
    at.session_state["lang"] = lang
    at.session_state["page"] = "attention"
    monkeypatch.setattr(serve, "current_addresses", lambda: serve.addresses("", 8501, lan="192.168.1.20"))
    at.run()
    assert at.sidebar.expander[0].label == words["models.join_title"]
    assert not at.sidebar.get("image")  # closed: nothing drawn, no QR code made
    at.session_state["join_panel"] = True  # opened
    at.run()
    assert at.sidebar.markdown[0].value == "**http://192.168.1.20:8501/**" and not at.sidebar.warning
    view = f"http://192.168.1.20:8501/attention?lang={lang}&image=fubao_28&model=teaching&layer=3&head=2&query=17"
    assert [c.value for c in at.sidebar.code] == [view]  # the view on screen, as text
    assert [image.proto.imgs[0].caption for image in at.sidebar.get("image")] == [words["models.join_qr"], ""]
    assert at.sidebar.caption[1].value == words["models.join_view"]
    assert at.sidebar.button[0].label == words["models.join_view_update"]

    monkeypatch.setattr(serve, "current_addresses", lambda: serve.addresses("127.0.0.1", 8502))
    at.run()
    assert at.sidebar.warning[0].value == words["models.join_localhost_only"].format(url="http://127.0.0.1:8502/")
    assert at.sidebar.code[0].value == "python -m app --server.address 0.0.0.0 --server.port 8502"
    assert not at.sidebar.get("image")

    monkeypatch.setattr(serve, "current_addresses", lambda: serve.addresses("0.0.0.0", 8501, lan=None))
    at.run()
    assert at.sidebar.warning[0].value == words["models.join_no_network"] and not at.sidebar.get("image")


def test_qr_code_is_a_png_made_here():
    import segno

    png = join_qr_png("http://192.168.1.20:8501/")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    side = segno.make("http://192.168.1.20:8501/", error="m").symbol_size(scale=6, border=4)[0]
    assert int.from_bytes(png[16:20], "big") == side  # the PNG's width (IHDR): that symbol, drawn at scale 6


def join_qr_png(url):
    from app.join import qr_png

    return qr_png(url)


@pytest.mark.parametrize("page, values, path", [
    ("attention", {"lang": "ko", "image": "fubao_28", "model": "teaching", "layer": 3, "head": 2, "query": 17},
     "/attention"),
    ("", {"lang": "en", "image": "fubao_28"}, "/"),  # the first page is the root
    ("../../etc/passwd", {"lang": "en"}, "/"),  # an unknown page: the root, not the name
    ("attention/../x", {}, "/"),
    ("//evil.example", {}, "/"),
    ("attention", {"image": "../../x/y?z#w", "model": "org/name", "layer": "3/4"}, "/attention"),
    ("attention", {"secret": "x", "upload": "/tmp/a.png"}, "/attention"),  # only KEYS
])
def test_a_view_link_names_a_page_of_the_app_and_only_the_links_values(page, values, path):
    from urllib.parse import parse_qsl, urlsplit

    from app import links

    address = links.address("http://10.0.0.7:8501/", page, values)
    parts = urlsplit(address)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("http", "10.0.0.7:8501", path, "")
    assert parse_qsl(parts.query) == [(k, str(values[k])) for k in links.KEYS if k in values]


def test_the_view_qr_code_scans_at_the_size_shown():
    """The longest view link a class can have (an IPv6 address, https, a base path, a curated model, every value at
    its longest), its QR code shrunk to the 200 px the sidebar shows, read back by a decoder (zxing-cpp)."""
    import io

    import segno
    import zxingcpp
    from PIL import Image

    from app import links, pictures
    from app.steps import STEPS
    from vit_core import hub

    base = serve.url("fd12:3456:789a:1::1234", 8501, "classroom", https=True)
    values = {"lang": "ko", "image": max(pictures.demo_ids(), key=len), "model": max((m.name for m in hub.CURATED),
              key=len), "layer": 12, "head": 12, "query": 196}
    address = links.address(base, max((s.path for s in STEPS), key=len), values)
    assert len(address) > 140
    qr = segno.make(address, error="m")
    assert qr.error == "M" and qr.version <= 10  # 57 modules at most: over 3 px each at 200 px
    shown = Image.open(io.BytesIO(join_qr_png(address))).convert("L").resize((200, 200), Image.BILINEAR)
    assert [code.text for code in zxingcpp.read_barcodes(shown)] == [address]
