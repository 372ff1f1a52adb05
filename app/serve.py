"""Start the explainer's server: `python -m app [Streamlit options]` is `streamlit run app/main.py` with one fix.

The fix: Nagle's algorithm off on the server's sockets. Streamlit (1.67) binds its listening socket itself and hands
it to uvicorn; the socket is made with protocol number 0, and asyncio switches TCP_NODELAY on only for accepted
sockets whose protocol reads IPPROTO_TCP (the same bug as uvicorn issue #3149). With Nagle on, the small websocket
frames of one rerun wait for the browser's delayed ACK: every click in the attention explorer took 48 ms on the
server's loopback, at least 40 of them waiting (a do-nothing Streamlit fragment: 44 ms; with the fix 6 ms). See
docs/PERFORMANCE.md. Setting TCP_NODELAY on the listening socket fixes it: accepted sockets inherit it (checked by
tests/test_serve.py on the platform the tests run on).
"""
from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().parent / "main.py"
log = logging.getLogger(__name__)


def no_delay(sock: socket.socket) -> socket.socket:
    """Switch Nagle's algorithm off on a TCP socket (on a listening one, its connections inherit it)."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def patch_streamlit_bind() -> bool:
    """Make Streamlit's own socket binding set TCP_NODELAY. Returns False, and says so in the log, when this
    Streamlit binds its socket some other way (a newer release may fix the bug itself)."""
    try:
        from streamlit.web.server.starlette import starlette_server
    except ImportError:
        starlette_server = None
    bind = getattr(starlette_server, "_bind_socket", None)
    if bind is None:
        log.warning("Streamlit has no starlette_server._bind_socket: TCP_NODELAY not set (see app/serve.py)")
        return False
    if getattr(bind, "sets_no_delay", False):
        return True

    def bind_no_delay(*args, **kwargs) -> socket.socket:
        return no_delay(bind(*args, **kwargs))

    bind_no_delay.sets_no_delay = True
    starlette_server._bind_socket = bind_no_delay
    return True


def main(argv: list[str] | None = None) -> None:
    patch_streamlit_bind()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(MAIN), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())
