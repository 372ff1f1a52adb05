"""app/serve.py: the server's sockets have Nagle's algorithm off (every step otherwise waits for a delayed ACK)."""
import socket

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
