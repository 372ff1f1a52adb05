"""Start the explainer's server: `python -m app [Streamlit options]` is `streamlit run app/main.py` with two fixes.

Nothing leaves the machine. At start, Streamlit's headless server asks checkip.amazonaws.com for this machine's
external address, only to print it (and, later, to check a cross-origin websocket against it), and finds its network
address by "connecting" a UDP socket to 8.8.8.8. Here both are replaced: `addresses()` says where the app can be
opened (this computer, and the network address students use, found by `network_address()` without sending anything),
`print_urls` prints it in place of Streamlit's welcome, and app/join.py shows it in the sidebar with a QR code.
tests/test_browser_offline.py records every lookup and connection of the server and of Chromium: there are none.

The second: Nagle's algorithm off on the server's sockets. Streamlit (1.67) binds its listening socket itself and hands
it to uvicorn; the socket is made with protocol number 0, and asyncio switches TCP_NODELAY on only for accepted
sockets whose protocol reads IPPROTO_TCP (the same bug as uvicorn issue #3149). With Nagle on, the small websocket
frames of one rerun wait for the browser's delayed ACK: every click in the attention explorer took 48 ms on the
server's loopback, at least 40 of them waiting (a do-nothing Streamlit fragment: 44 ms; with the fix 6 ms). See
docs/PERFORMANCE.md. Setting TCP_NODELAY on the listening socket fixes it: accepted sockets inherit it (checked by
tests/test_serve.py on the platform the tests run on).
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

MAIN = Path(__file__).resolve().parent / "main.py"
log = logging.getLogger(__name__)
# A UDP socket "connected" to one of these addresses only asks the routing table which of this computer's addresses
# it would send from: no packet is sent. Private addresses, so that nothing would go far even if one were.
ROUTE_PROBES = ("10.254.254.254", "172.31.254.254", "192.168.254.254")
WILDCARDS = {"", "0.0.0.0", "::"}  # server.address values that listen on every interface (unset: Streamlit's default)
JOIN_COMMAND = "python -m app --server.address 0.0.0.0"


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


def network_address() -> str | None:
    """This computer's IPv4 address on its network (what another device there opens), or None when it has none
    but loopback. Asks the routing table only: no lookup, nothing sent (see ROUTE_PROBES)."""
    for probe in ROUTE_PROBES:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                address = s.getsockname()[0]
        except OSError:  # no route to that range
            continue
        if address and not (ipaddress.ip_address(address).is_loopback or ipaddress.ip_address(address).is_unspecified):
            return address
    return None


def is_loopback(host: str) -> bool:
    """localhost, 127.x.x.x or ::1 (a name other than localhost is never looked up)."""
    if host.strip("[]").lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Addresses:
    """Where the app is served: the URL on this computer, the one other devices open (None if they cannot), why
    not ("localhost_only": the server listens on loopback only; "no_network": this computer is on no network) and
    the command that lets them in."""

    local: str
    network: str | None
    why_not: str = ""
    command: str = ""


def url(host: str, port: int, base: str = "", https: bool = False) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    port_part = "" if port == (443 if https else 80) else f":{port}"
    return f"{'https' if https else 'http'}://{host}{port_part}/" + (f"{base.strip('/')}/" if base.strip("/") else "")


def addresses(address: str, port: int, base: str = "", server_address: str | None = None,
              server_port: int | None = None, lan: str | None = None, https: bool = False) -> Addresses:
    """Where the app can be opened, from how it is served: Streamlit's server.address, server.port and
    server.baseUrlPath, and browser.serverAddress / browser.serverPort when they are set (a name or proxy the
    teacher chose). `lan` is this computer's network address (network_address()), needed only for a server that
    listens on every interface. `https`: the server has a certificate (server.sslCertFile)."""
    address = (address or "").strip()
    command = JOIN_COMMAND + (f" --server.port {port}" if port != 8501 else "")
    local = url("localhost" if address in WILDCARDS else address, port, base, https)
    if server_address and not is_loopback(server_address):
        port = server_port or port
        return Addresses(local, url(server_address, port, base, https or port == 443))
    if is_loopback(address):
        return Addresses(local, None, "localhost_only", command)
    if address in WILDCARDS:
        return Addresses(local, url(lan, port, base, https)) if lan else Addresses(local, None, "no_network", command)
    return Addresses(local, url(address, port, base, https))


def current_addresses() -> Addresses:
    """addresses() for the server running now, as Streamlit's config says."""
    from streamlit import config

    browser = config.is_manually_set("browser.serverAddress")
    address = config.get_option("server.address") or ""
    return addresses(address, int(config.get_option("server.port")), config.get_option("server.baseUrlPath") or "",
                     config.get_option("browser.serverAddress") if browser else None,
                     int(config.get_option("browser.serverPort")) if browser else None,
                     network_address() if address.strip() in WILDCARDS else None,
                     bool(config.get_option("server.sslCertFile")))


def welcome_lines(a: Addresses, title: str = "The ViT Explainer is running.") -> list[str]:
    """What the terminal says when the app is ready: where to open it, or why students cannot (also used by
    deploy/serve_class.py, for the classroom server behind HAProxy)."""
    lines = ["", f"  {title}", "", f"  On this computer:  {a.local}"]
    if a.network:
        lines.append(f"  On the network:    {a.network}   (students: this address, or the QR code in the sidebar)")
    elif a.why_not == "localhost_only":
        lines.append(f"  Only this computer can open it. To let students join: {a.command}")
    else:
        lines.append("  This computer is on no network now: students cannot join until it is.")
    return [*lines, ""]


def print_urls(is_running_hello: bool = False) -> None:
    """In place of Streamlit's welcome message (which looks up this machine's external address on the Internet)."""
    from streamlit import config

    if config.get_option("logger.hideWelcomeMessage"):
        return
    print("\n".join(welcome_lines(current_addresses())), flush=True)


def keep_streamlit_offline() -> bool:
    """Streamlit's start-up banner and its origin check stop asking the Internet for this machine's address.
    Returns False, and says so in the log, when this Streamlit has no such functions (then nothing is patched)."""
    try:
        from streamlit import net_util
        from streamlit.web import bootstrap
    except ImportError:
        net_util = bootstrap = None
    if not (hasattr(net_util, "get_external_ip") and hasattr(net_util, "get_internal_ip")
            and hasattr(bootstrap, "_print_url")):
        log.warning("Streamlit's net_util or bootstrap changed: its start-up may look up checkip.amazonaws.com "
                    "(see app/serve.py)")
        return False
    net_util.get_external_ip = lambda: None  # only ever printed, or compared with a cross-origin websocket's origin
    net_util.get_internal_ip = network_address
    bootstrap._print_url = print_urls
    return True


def warm() -> None:
    """Import what every page run needs before the server answers: torch and the model code, Pillow, matplotlib,
    Plotly, and what Streamlit imports the first time a component is given a dict (pandas, pyarrow): about 2.5 s on a
    2-core machine. Otherwise the first run pays for them, and a class that joins at once waits behind it (the first
    learner's page took 2.5 s, and everyone arriving meanwhile queued; docs/PERFORMANCE.md)."""
    import matplotlib.pyplot  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    from PIL import Image  # noqa: F401
    from streamlit.dataframe_util import determine_data_format

    import vit_core  # noqa: F401  (torch, einops, safetensors)

    determine_data_format({"warm": 1})


def main(argv: list[str] | None = None) -> None:
    patch_streamlit_bind()
    keep_streamlit_offline()
    warm()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(MAIN), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())
