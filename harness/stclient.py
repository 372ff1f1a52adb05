"""A lightweight Streamlit client: speaks the browser's protocol to the real app server, without a browser (the
benchmarks' learners, and the classroom server's tests); and `PageRuns`, the same protocol as a Chromium page
receives it (Playwright), where a run ends.

What the frontend does, and this client repeats (read from streamlit/web/server/starlette/ and checked against the
BackMsgs Chromium sends, see benchmarks/classroom.py --validate):

1. GET /_stcore/health: the server sets the `_streamlit_xsrf` cookie.
2. Open the websocket /_stcore/stream with the subprotocols ["streamlit", <xsrf token>] (the frontend passes the
   token in the subprotocol header) and the cookie; the server answers with ForwardMsgs, one per binary frame.
3. A run: BackMsg(rerun_script=ClientState(widget_states, page_script_hash, fragment_id, cached_message_hashes,
   context_info)). The server answers with new_session, deltas, …, and script_finished. A click on a button inside
   an st.fragment sends the fragment's id, and only the fragment reruns.
4. An upload: BackMsg(file_urls_request) → ForwardMsg(file_urls_response) with an upload URL
   (/_stcore/upload_file/<session>/<file id>); a multipart PUT there with the X-Xsrftoken header; then a rerun
   with the file_uploader's WidgetState(file_uploader_state_value=[UploadedFileInfo]).
5. Messages of at least 10 KB are cacheable: the client remembers their hashes and sends them back
   (cached_message_hashes); the server then sends only a reference for an unchanged one.
6. Pictures travel over HTTP: an image element names /media/<hash>.<ext>, which the browser fetches (once: it
   caches them). `fetch_media` does the same.

Cookies are kept as a browser keeps them for one site: every Set-Cookie answer is remembered and sent back on every
request and on the websocket. Behind HAProxy (deploy/, docs/DEPLOY.md) that includes its SERVERID cookie, so the
websocket, the uploads and the media of one Session reach the one replica that holds them.

Widgets are addressed by their key (the suffix of the widget id, "$$ID-<hash>-<key>"); the id used is the one the
latest run sent, as the frontend does. Pages are addressed by their sidebar title or url path.
"""
from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


def ends_run(m: ForwardMsg) -> bool:
    """Whether `m` ends a run: its script_finished, unless a rerun superseded the run (FINISHED_EARLY_FOR_RERUN: the
    rerun's own script_finished follows)."""
    return m.WhichOneof("type") == "script_finished" and m.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN


class ProtocolError(RuntimeError):
    pass


@dataclass
class Run:
    """What one run sent back: its ForwardMsgs, their bytes (frame payloads), how long it took, what went wrong."""

    ms: float = 0.0
    frames: int = 0
    bytes: int = 0
    status: int | None = None
    messages: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Markdown, captions and headings of the run, in order (to check what the page shows)."""
        out = []
        for m in self.messages:
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
                el = m.delta.new_element
                kind = el.WhichOneof("type")
                if kind in ("markdown", "heading"):
                    out.append(getattr(el, kind).body)
                elif kind == "imgs":
                    out += [img.caption for img in el.imgs.imgs]
        return out

    def media(self) -> list[str]:
        """The /media/… addresses of the pictures this run drew (what the browser then fetches over HTTP)."""
        out = []
        for m in self.messages:
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
                el = m.delta.new_element
                if el.WhichOneof("type") == "imgs":
                    out += [img.url for img in el.imgs.imgs if img.url.startswith("/media/")]
        return out

    def layout(self) -> list[tuple]:
        """(delta path, element type, widget key) of every delta: the shape of the page, to compare two clients."""
        out = []
        for m in self.messages:
            if m.WhichOneof("type") == "delta":
                kind = m.delta.WhichOneof("type")
                if kind == "new_element":
                    el = m.delta.new_element
                    kind = el.WhichOneof("type")
                    wid = getattr(getattr(el, kind), "id", "") if kind else ""
                    out.append((tuple(m.metadata.delta_path), kind, key_of(wid)))
                else:
                    out.append((tuple(m.metadata.delta_path), kind, ""))
            elif m.WhichOneof("type") == "ref_hash":
                out.append((tuple(m.metadata.delta_path), "ref_hash", ""))
        return out


def key_of(widget_id: str) -> str:
    """The user key of a widget id "$$ID-<hash>-<key>" ("" for a widget without a key)."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") and widget_id.count("-") >= 2 else ""


class Session:
    """One learner's browser tab, as far as the server can tell."""

    def __init__(self, url: str, locale: str = "en-US", timeout: float = 300, query: str = ""):
        self.url = url.rstrip("/")
        self.query = query.lstrip("?")  # the address's query string ("class=…&me=…"), sent with every run
        self.ws_url = "ws" + self.url[len("http"):] + "/_stcore/stream"  # http → ws, https → wss
        self.locale = locale
        self.timeout = timeout
        self.session_id = ""
        self.xsrf = ""
        self.pages: dict[str, str] = {}  # title and url path → page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, str, object]] = {}  # key → (widget id, fragment id, element proto)
        self.values: dict[str, object] = {}  # key → WidgetState (without id) that this learner has set
        self.cache: dict[str, int] = {}  # hash of a cacheable message → the run it was last seen in
        self.uploaded: dict[str, str] = {}  # file_uploader key → delete URL of the file it holds now
        self.cookies: dict[str, str] = {}  # name → value, as a browser keeps them for this site (SERVERID included)
        self.fetched: set[str] = set()  # media addresses already fetched (the browser caches them)
        self.runs = 0
        self.total_bytes = 0
        self._ws = None
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._reader = None

    # ---- connection -------------------------------------------------------------------------------------------
    def remember(self, headers) -> None:
        """Keep the cookies an answer sets (all of its Set-Cookie headers)."""
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if name.strip():
                self.cookies[name.strip()] = value.strip()

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def http(self, method: str, path: str, payload: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        """One HTTP request to the server with this session's cookies (blocking: call it in a thread). Returns the
        status and the body; an error status is returned, not raised."""
        headers = {"Origin": self.url, **({"Cookie": self.cookie_header()} if self.cookies else {}), **headers}
        request = urllib.request.Request(self.url + path, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                self.remember(answer.headers)
                return answer.status, answer.read()
        except urllib.error.HTTPError as e:
            self.remember(e.headers)
            return e.code, e.read()

    async def connect(self) -> None:
        status, _ = await asyncio.to_thread(self.http, "GET", "/_stcore/health")
        if status != 200:
            raise ProtocolError(f"/_stcore/health answered {status}")
        self.xsrf = self.cookies.get("_streamlit_xsrf", "")
        headers = {"Origin": self.url}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        self._ws = await websockets.connect(
            self.ws_url, subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
            additional_headers=headers, max_size=None, open_timeout=self.timeout, ping_interval=None)
        self.remember(self._ws.response.headers)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(frame)
                await self._inbox.put((len(frame), msg))
        except websockets.ConnectionClosed as e:
            await self._inbox.put((0, e))

    async def _next(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise asyncio.TimeoutError
        size, msg = await asyncio.wait_for(self._inbox.get(), remaining)
        if isinstance(msg, Exception):
            raise ProtocolError(f"websocket closed: {msg}")
        return size, msg

    # ---- runs -------------------------------------------------------------------------------------------------
    def _state(self, key: str, trigger: bool = False):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        wid = self.widgets[key][0]
        ws = WidgetState(id=wid)
        if trigger:
            ws.trigger_value = True
        else:
            ws.MergeFrom(self.values[key])
            ws.id = wid
        return ws

    def _rerun(self, *, page: str | None = None, fragment_id: str = "", trigger: str | None = None,
               auto: bool = False) -> BackMsg:
        """The rerun BackMsg the frontend sends (App.sendRerunBackMsg): every widget's state, the page, the query
        string, the fragment to rerun ("" for the whole app), whether a run_every timer sent it."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.page_script_hash = self.pages[page] if page else self.page_hash
        cs.query_string = self.query
        for key in self.values:
            if key in self.widgets:
                cs.widget_states.widgets.append(self._state(key))
        if trigger:
            cs.widget_states.widgets.append(self._state(trigger, trigger=True))
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.cached_message_hashes.extend(h for h, seen in self.cache.items() if self.runs - seen <= 2)
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = self.locale
        cs.context_info.url = self.url + "/" + (f"?{self.query}" if self.query else "")
        cs.context_info.color_scheme = "light"
        return msg

    async def run(self, *, page: str | None = None, fragment_of: str | None = None,
                  trigger: str | None = None) -> Run:
        """Send a rerun as the frontend would and wait for script_finished. `page`: a sidebar title or url path;
        `fragment_of`: the key of a widget inside an st.fragment (only that fragment reruns); `trigger`: a button key
        clicked in this run."""
        fragment_id = self.widgets[fragment_of][1] if fragment_of else ""
        return await self._send_and_wait(self._rerun(page=page, fragment_id=fragment_id, trigger=trigger))

    async def _send_and_wait(self, msg: BackMsg) -> Run:
        run = Run()
        start = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        await self._ws.send(msg.SerializeToString())
        try:
            while True:
                size, m = await self._next(deadline)
                run.frames += 1
                run.bytes += size
                run.messages.append(m)
                self._absorb(m, run)
                if m.WhichOneof("type") == "script_finished":
                    run.status = m.script_finished
                    if ends_run(m):
                        break  # (FINISHED_EARLY_FOR_RERUN does not: the rerun's own script_finished follows)
        except asyncio.TimeoutError:
            run.errors.append(f"no script_finished within {self.timeout:.0f} s")
        except ProtocolError as e:
            run.errors.append(str(e))
        run.ms = (time.perf_counter() - start) * 1000
        if run.status is not None and run.status not in FINISHED:
            run.errors.append(f"script finished with status {run.status}")
        self.runs += 1
        self.total_bytes += run.bytes
        return run

    def _absorb(self, m: ForwardMsg, run: Run) -> None:
        kind = m.WhichOneof("type")
        if m.metadata.cacheable and m.hash:
            self.cache[m.hash] = self.runs
        elif kind == "ref_hash":
            self.cache[m.ref_hash] = self.runs
        if kind == "new_session":
            ns = m.new_session
            if ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
            self.page_hash = ns.page_script_hash
        elif kind == "navigation":
            for p in m.navigation.app_pages:
                self.pages[p.page_name] = p.page_script_hash
                self.pages[p.url_pathname] = p.page_script_hash
            if m.navigation.page_script_hash:
                self.page_hash = m.navigation.page_script_hash
        elif kind == "delta" and m.delta.WhichOneof("type") == "new_element":
            el = m.delta.new_element
            what = el.WhichOneof("type")
            if what == "exception":
                run.errors.append(f"exception: {el.exception.type}: {el.exception.message[:200]}")
            elif what == "alert" and el.alert.format == el.alert.ERROR:
                run.errors.append(f"error shown: {el.alert.body[:200]}")
            sub = getattr(el, what, None)
            wid = getattr(sub, "id", "") if sub is not None else ""
            if wid and key_of(wid):
                self.widgets[key_of(wid)] = (wid, m.delta.fragment_id, sub)

    # ---- what a learner does ------------------------------------------------------------------------------------
    async def open(self) -> Run:
        """Load the app (the first run, on the default page)."""
        await self.connect()
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.context_info.timezone = "UTC"
        msg.rerun_script.context_info.locale = self.locale
        msg.rerun_script.context_info.url = self.url + "/" + (f"?{self.query}" if self.query else "")
        msg.rerun_script.context_info.color_scheme = "light"
        msg.rerun_script.widget_states.SetInParent()
        return await self._send_and_wait(msg)

    async def click(self, key: str) -> Run:
        """Click the button `key`; inside a fragment only the fragment reruns, as in the browser."""
        frag = self.widgets[key][1]
        return await self.run(trigger=key, fragment_of=key if frag else None)

    def component_data(self, key: str):
        """The data the app sent the st.components.v2 component `key` on its last run (JSON)."""
        proto = self.widgets[key][2]
        return json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)

    async def report(self, key: str, name: str, value) -> Run:
        """What a components.v2 component's setStateValue(name, value) sends: its whole state as JSON; inside a
        fragment only the fragment reruns, as in the browser."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        before = json.loads(self.values[key].json_value) if key in self.values else {}
        self.values[key] = WidgetState(id=self.widgets[key][0], json_value=json.dumps({**before, name: value}))
        return await self.run(fragment_of=key if self.widgets[key][1] else None)

    def disabled(self, key: str) -> bool:
        return bool(getattr(self.widgets[key][2], "disabled", False))

    async def slide(self, key: str, value: float) -> Run:
        """Move the slider `key` to `value` (inside a fragment, only the fragment reruns). The value is sent once:
        afterwards the server's own value wins, as in the browser when a callback moves the slider."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        frag = self.widgets[key][1]
        self.values[key] = WidgetState()
        self.values[key].double_array_value.data.append(value)
        try:
            return await self.run(fragment_of=key if frag else None)
        finally:
            del self.values[key]

    async def set_text(self, key: str, value: str) -> Run:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        self.values[key] = WidgetState(string_value=value)
        return await self.run()

    async def select(self, key: str, option_label: str) -> Run:
        """A selectbox sends the label of the chosen option (as the frontend does)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        self.values[key] = WidgetState(string_value=option_label)
        return await self.run()

    async def upload(self, key: str, name: str, data: bytes, mime: str = "image/jpeg") -> Run:
        """The file_uploader `key`: ask for an upload URL, PUT the file there, rerun with the uploader's new state."""
        from streamlit.proto.Common_pb2 import FileURLs
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        req = BackMsg()
        req.file_urls_request.request_id = str(uuid.uuid4())
        req.file_urls_request.file_names.append(name)
        req.file_urls_request.session_id = self.session_id
        resp = await self._file_urls(req)
        if resp.error_msg:
            raise ProtocolError(f"upload refused: {resp.error_msg}")
        urls: FileURLs = resp.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()

        def send(method: str, path: str, payload: bytes | None = None, **extra: str) -> int:
            return self.http(method, path, payload, **{"X-Xsrftoken": self.xsrf, **extra})[0]

        # A single-file uploader in the browser deletes the file it held once the new one's URLs arrive
        # (frontend FileUploader: fetchFileURLs(...).then → deleteFile(deleteUrl)); the server keeps it until then.
        if key in self.uploaded:
            status = await asyncio.to_thread(send, "DELETE", self.uploaded.pop(key))
            if status not in (200, 204):
                raise ProtocolError(f"upload DELETE answered {status}")
        status = await asyncio.to_thread(send, "PUT", urls.upload_url, body,
                                         **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 204:
            raise ProtocolError(f"upload PUT answered {status}")
        self.uploaded[key] = urls.delete_url
        state = WidgetState()
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.values[key] = state
        return await self.run()

    async def _file_urls(self, req: BackMsg):
        """Send a file_urls_request and wait for its file_urls_response."""
        await self._ws.send(req.SerializeToString())
        deadline = time.monotonic() + self.timeout
        while True:
            size, m = await self._next(deadline)
            self.total_bytes += size
            answer = m.file_urls_response
            if m.WhichOneof("type") == "file_urls_response" and answer.response_id == req.file_urls_request.request_id:
                return answer

    async def fetch_media(self, run: Run) -> list[str]:
        """Fetch the pictures of `run` as the browser does (each address once, with this session's cookies); returns
        what went wrong, e.g. a picture asked of a replica that does not hold it (404)."""
        errors = []
        for path in dict.fromkeys(run.media()):
            if path in self.fetched:
                continue
            status, body = await asyncio.to_thread(self.http, "GET", path)
            if status == 200 and body:
                self.fetched.add(path)
            else:
                errors.append(f"GET {path} answered {status}")
        return errors


class LiveSession(Session):
    """A tab whose page also reruns by itself, as a browser's does: every fragment with run_every is rerun on a timer.

    The server announces such a fragment with ForwardMsg(auto_rerun(interval, fragment_id)); the frontend
    (App.handleAutoRerun) then calls setInterval, and each tick sends a rerun BackMsg with that fragment_id and
    is_auto_rerun, whether or not a run is going (the server folds it into the pending request; a full rerun swallows
    it); stop_auto_rerun cancels the timer. Here one task reads every message (so nothing waits for a run to read
    them), keeps the page's state as Session does, and calls each `watchers` function with (message, perf_counter
    time); `run`, `click` and `upload` wait for the run that answers them: the next run, whole-app unless they asked
    for a fragment, that starts (new_session) after they were sent, until its end (script_finished).
    `errors`: what went wrong on the page in any run, the timer's included."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id → (interval, its timer)
        self.watchers: list = []
        self.errors: list[str] = []
        self.auto_reruns = 0  # ticks sent
        self.full_runs = 0  # whole-app runs ended
        self._waits: list[dict] = []
        self._urls: dict[str, asyncio.Future] = {}
        self._pump = None
        self._current_full = False  # whether the run now going is a whole-app run
        self.on_page: set[str] = set()  # keys of the widgets the latest whole-app run drew (and fragments since)

    async def connect(self) -> None:
        await super().connect()
        self._pump = asyncio.create_task(self._read_all())

    async def close(self) -> None:
        for _, task in self.timers.values():
            task.cancel()
        self.timers.clear()
        if self._pump is not None:
            self._pump.cancel()
        await super().close()

    async def _read_all(self) -> None:
        while True:
            size, m = await self._inbox.get()
            now = time.perf_counter()
            if isinstance(m, Exception):
                self.errors.append(f"websocket closed: {m}")
                for w in self._waits:
                    w["run"].errors.append(f"websocket closed: {m}")
                    if not w["done"].done():
                        w["done"].set_result(None)
                return
            self.total_bytes += size
            kind = m.WhichOneof("type")
            if kind == "file_urls_response":
                future = self._urls.pop(m.file_urls_response.response_id, None)
                if future is not None and not future.done():
                    future.set_result(m.file_urls_response)
                continue
            sink = Run()
            self._absorb(m, sink)
            self.errors += sink.errors
            if kind == "new_session":
                self._current_full = not m.metadata.run.fragment_ids
                if self._current_full:
                    self.on_page = set()
            elif kind == "delta" and m.delta.WhichOneof("type") == "new_element":
                el = m.delta.new_element
                sub = getattr(el, el.WhichOneof("type") or "", None)
                if key_of(getattr(sub, "id", "") if sub is not None else ""):
                    self.on_page.add(key_of(sub.id))
            elif kind == "auto_rerun":
                self._timer(m.auto_rerun.fragment_id, m.auto_rerun.interval)
            elif kind == "stop_auto_rerun":
                for fid in m.stop_auto_rerun.fragment_ids:
                    self._untimer(fid)
            for w in self._waits:
                if kind == "new_session" and not w["started"]:
                    w["started"] = self._current_full or not w["full"]
                if not w["started"]:
                    continue
                run = w["run"]
                run.frames += 1
                run.bytes += size
                run.messages.append(m)
                run.errors += sink.errors
                if kind == "script_finished" and ends_run(m):
                    run.status = m.script_finished
                    w["done"].set_result(None)
            self._waits = [w for w in self._waits if not w["done"].done()]
            if kind == "script_finished" and ends_run(m):
                self.runs += 1
                self.full_runs += self._current_full
            for watch in self.watchers:
                watch(m, now)

    def _timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or (fragment_id in self.timers and self.timers[fragment_id][0] == interval):
            return
        self._untimer(fragment_id)

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)
                self.auto_reruns += 1
                try:
                    await self._ws.send(self._rerun(fragment_id=fragment_id, auto=True).SerializeToString())
                except websockets.ConnectionClosed:
                    return

        self.timers[fragment_id] = (interval, asyncio.create_task(tick()))

    def _untimer(self, fragment_id: str) -> None:
        if fragment_id in self.timers:
            self.timers.pop(fragment_id)[1].cancel()

    async def submit(self, key: str) -> Run:
        """Click the button `key` and wait for the whole-app run that follows (a fragment's button whose callback
        or code reruns the app, e.g. st.rerun(scope="app"): the fragment's own run is not the end)."""
        frag = self.widgets[key][1]
        return await self._send_and_wait(self._rerun(trigger=key, fragment_id=frag or ""), whole=True)

    async def _send_and_wait(self, msg: BackMsg, whole: bool = False) -> Run:
        wait = {"run": Run(), "started": False, "full": whole or not msg.rerun_script.fragment_id,
                "done": asyncio.get_running_loop().create_future()}
        start = time.perf_counter()
        self._waits.append(wait)
        await self._ws.send(msg.SerializeToString())
        run = wait["run"]
        try:
            await asyncio.wait_for(asyncio.shield(wait["done"]), self.timeout)
        except asyncio.TimeoutError:
            run.errors.append(f"no script_finished within {self.timeout:.0f} s")
            if wait in self._waits:
                self._waits.remove(wait)
        run.ms = (time.perf_counter() - start) * 1000
        if run.status is not None and run.status not in FINISHED:
            run.errors.append(f"script finished with status {run.status}")
        return run

    async def _file_urls(self, req: BackMsg):
        future = asyncio.get_running_loop().create_future()
        self._urls[req.file_urls_request.request_id] = future
        await self._ws.send(req.SerializeToString())
        return await asyncio.wait_for(future, self.timeout)


class PageRuns:
    """What a Chromium page (Playwright) receives over its websocket, recorded as a Session records its own: every
    frame (its payload's bytes, and its ForwardMsg; None for a text frame) and where each run ended (ends_run), for
    what each run sent. (harness.browser counts the runs the page shows, from its script state.)

        runs = PageRuns(page)           # before page.goto
        before = runs.ended
        page.click(...)
        runs.wait(page, before)         # until a run has ended since
    """

    def __init__(self, page):
        self.frames: list[tuple[int, ForwardMsg | None]] = []
        self.ends: list[int] = []  # len(frames) when each run ended
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            self.frames.append((len(payload.encode()), None))
            return
        m = ForwardMsg()
        m.ParseFromString(payload)
        self.frames.append((len(payload), m))
        if ends_run(m):
            self.ends.append(len(self.frames))

    @property
    def ended(self) -> int:
        """How many runs have ended so far."""
        return len(self.ends)

    def wait(self, page, before: int, timeout: float = 300) -> None:
        """Until more than `before` runs have ended (Playwright hands the page's events over while the page waits);
        a TimeoutError that says so after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.ended <= before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {before + 1} did not end within {timeout:.0f} s: no script_finished on "
                                   f"the page's websocket ({self.ended} runs ended)")
            page.wait_for_timeout(20)

    def runs(self) -> list[tuple[list, int]]:
        """The ForwardMsgs of each run that ended, split where it ended, with the bytes of their frames."""
        out, start = [], 0
        for end in self.ends:
            frames = self.frames[start:end]
            out.append(([m for _, m in frames if m is not None], sum(size for size, _ in frames)))
            start = end
        return out
