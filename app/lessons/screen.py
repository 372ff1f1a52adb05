"""What lesson mode draws: the sidebar's lesson panel, and the lesson bar above the page (app/lessons/play.py holds
the state; app/lessons/ask.py draws a question, its answer and the class's answers).

The keys are Streamlit's own button shortcuts, shown on the buttons: alone, N and P (next, previous); the presenter,
PageDown and PageUp (what a presentation clicker sends), A (reveal the answer), S (show the class's answers) and Q (ask
the beat's question again). A shortcut does nothing while the focus is in a text field.
"""
from __future__ import annotations

import streamlit as st

from app import describe, join, links, serve, ui
from app.i18n import current_language, t
from app.lessons import lesson as lessons
from app.lessons import ask, play, store
from app.lessons.play import MODE, Mode
from app.steps import step

PRESENTER_CSS = """<style>
/* the presenter's screen is projected: body text at least 24 px (issue 26 §4), headings and captions in proportion */
[data-testid="stMain"] [data-testid="stMarkdownContainer"] :is(p, li) { font-size: 24px; line-height: 1.45; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] :is(p, li) { font-size: 20px; }
[data-testid="stMain"] h1 { font-size: 2.6rem; }
[data-testid="stMain"] :is(h2, h3) { font-size: 2rem; }
[data-testid="stMain"] button p { font-size: 20px; }
[class*="st-key-lesson_code_"] p { font-size: 40px; font-weight: 700; letter-spacing: 0.06em; }
</style>"""

# a button's shortcut (N, PageDown…) is drawn by Streamlit at opacity 0.6: 3.9:1 on a white button, 2.8:1 on the
# primary one, under WCAG's 4.5:1 (axe, test_browser_class.py). Drawn opaque, it reads as the button's label does.
KEYS_CSS = '<style>[class*="st-key-lesson_"] button kbd { opacity: 1; }</style>'


# ---- the sidebar: enter, join, leave, a teacher's own file -----------------------------------------------------------
def panel() -> None:
    mode: Mode | None = st.session_state.get(MODE)
    box = st.sidebar.expander(t("lessons.panel_title"), icon=":material/school:", expanded=mode is not None)
    with box:
        if mode is None:
            _panel_out()
        else:
            _panel_in(mode)


def _panel_out() -> None:
    lesson, _ = play.chosen_lesson()
    lang = current_language()
    st.markdown(t("lessons.panel_lesson", title=lesson.title.get(lang), n=len(lesson.beats)))
    st.button(t("lessons.take_alone"), key="lesson_alone", icon=":material/person:", on_click=play.take_alone,
              use_container_width=True)
    st.button(t("lessons.teach"), key="lesson_teach", icon=":material/co_present:", on_click=play.open_class,
              use_container_width=True)
    st.caption(t("lessons.teach_help"))
    with st.form("lesson_join", border=False):
        code = st.text_input(t("lessons.join_code"), max_chars=24, placeholder="7KQ2M-XH9PD", key="lesson_join_code")
        if st.form_submit_button(t("lessons.join"), icon=":material/login:", use_container_width=True):
            if play.join(code):
                st.rerun()
    own = st.file_uploader(t("lessons.own_file"), type=["toml"], key="lesson_own_file",
                           max_upload_size=1, help=t("lessons.own_file_help"))
    _own_lesson(own)


def _own_lesson(upload) -> None:
    """A teacher's own lesson file: parsed, or every problem said with its line, and the shipped lesson kept."""
    ss = st.session_state
    if upload is None:
        ss.pop(play._OWN, None)
        return
    data = upload.getvalue()
    if ss.get(play._OWN) and ss[play._OWN][1] == data:
        st.success(t("lessons.own_loaded", title=ss[play._OWN][0].title.get(current_language())))
        return
    try:
        lesson = lessons.parse(data)
    except lessons.BadLesson as e:
        ss.pop(play._OWN, None)
        shipped = lessons.shipped().title.get(current_language())
        lines = [t("lessons.error_summary", n=len(e.problems), title=shipped)]
        lines += [f"- {t('lessons.error_at', line=p.line, problem=problem(p))}" if p.line else f"- {problem(p)}"
                  for p in e.problems[:12]]
        st.error("\n".join(lines))
        return
    ss[play._OWN] = (lesson, data)
    st.success(t("lessons.own_loaded", title=lesson.title.get(current_language())))


def problem(p: lessons.Problem) -> str:
    """One problem of a lesson file, in the page's language."""
    return t(f"lessons.error_{p.code}", **p.values)


def _panel_in(mode: Mode) -> None:
    lang = current_language()
    st.markdown(t(f"lessons.panel_{mode.kind}", title=mode.lesson.title.get(lang), code=mode.code))
    if mode.kind == "presenter":
        st.caption(t("lessons.presenter_link"))
        a = serve.current_addresses()
        st.code(links.address(a.network or a.local, "", {"class": mode.code, "key": mode.secret}),
                language=None, wrap_lines=True)
    st.button(t("lessons.leave"), key="lesson_leave", icon=":material/logout:", on_click=play.leave,
              use_container_width=True)


# ---- the bar above the page ------------------------------------------------------------------------------------------
def notice() -> None:
    said = st.session_state.pop(play._NOTICE, None)
    if said:
        getattr(st, said[0])(said[1])


def bar() -> None:
    mode: Mode | None = st.session_state.get(MODE)
    notice()
    if mode is None:
        return
    st.html(KEYS_CSS)
    if mode.kind == "presenter":
        st.html(PRESENTER_CSS)
    with st.container(border=True, key=f"lesson_{mode.kind}"):
        {"alone": _alone, "presenter": _presenter, "learner": _learner}[mode.kind](mode)
    _scroll()


def _heading(mode: Mode) -> str:
    lang = current_language()
    beat = mode.current
    return t("lessons.bar_beat", k=mode.beat + 1, n=len(mode.lesson.beats), title=mode.lesson.title.get(lang),
             page=step(beat.page).title(lang))


def _alone(mode: Mode) -> None:
    ss = st.session_state
    st.caption(_heading(mode))
    if mode.away:
        st.info(t("lessons.away_alone", k=mode.beat + 1))
        st.button(t("lessons.back_beat", k=mode.beat + 1), key="lesson_back", icon=":material/undo:",
                  on_click=play.back, type="primary")
    st.markdown(mode.current.say.get(current_language()))
    q = mode.current.question
    if q is not None and not mode.away:
        c = ui.current(download=False)
        answers, revealed = ss.setdefault(play._ANSWERS, {}), ss.setdefault(play._REVEALED, {})
        if revealed.get(mode.beat):
            ask.reveal(q, ask.solve(q, c), answers.get(mode.beat), c)
        else:
            value = ask.ask(q, c, key=f"lesson_q{mode.beat}", given=answers.get(mode.beat))
            if value is not None:
                answers[mode.beat] = value
            st.button(t("lessons.reveal"), key="lesson_reveal", icon=":material/visibility:", on_click=play.reveal,
                      shortcut="A")
    _moves(mode, "N", "P")


def _moves(mode: Mode, next_key: str, previous_key: str) -> None:
    last = len(mode.lesson.beats) - 1
    with st.container(horizontal=True, key="lesson_moves"):
        st.button(t("lessons.previous"), key="lesson_previous", icon=":material/arrow_back:", on_click=play.go,
                  args=(mode.beat - 1,), disabled=mode.beat == 0, shortcut=previous_key)
        st.button(t("lessons.next"), key="lesson_next", icon=":material/arrow_forward:", on_click=play.go,
                  args=(mode.beat + 1,), disabled=mode.beat == last, shortcut=next_key, type="primary")


def _presenter(mode: Mode) -> None:
    lang = current_language()
    top = st.columns([3, 1], vertical_alignment="center")
    top[0].caption(_heading(mode))
    with top[1].popover(t("lessons.show_join"), icon=":material/qr_code_2:", use_container_width=True):
        _join_card(mode, "popover")
    if mode.beat == 0:  # while the class comes in: the code and the QR code beside the first beat's text
        text, card = st.columns([3, 2])
        text.markdown(mode.current.say.get(lang))
        with card:
            _join_card(mode, "first")
    else:
        st.markdown(mode.current.say.get(lang))
    q = mode.current.question
    state = mode.state
    if q is not None:
        st.markdown(f"**{q.ask.get(lang)}**")
        c = ui.current(download=False)
        asked_here = state is not None and state.asked == mode.beat and state.phase in (store.OPEN, store.REVEALED)
        if asked_here:
            st.fragment(_tally, run_every=play.TALLY_S if state.phase == store.OPEN else None)(mode, q, c)
            if state.phase == store.REVEALED:
                ask.reveal(q, ask.solve(q, c), None, c)
        else:
            st.caption(t("lessons.not_asked"))
        with st.container(horizontal=True, key="lesson_question_keys"):
            st.button(t("lessons.reveal"), key="lesson_reveal", icon=":material/visibility:", on_click=play.reveal,
                      shortcut="A", disabled=not (asked_here and state.phase == store.OPEN))
            st.button(t("lessons.show_class"), key="lesson_show", icon=":material/bar_chart:", on_click=_toggle_show,
                      shortcut="S", disabled=not asked_here)
            st.button(t("lessons.ask_again"), key="lesson_ask", icon=":material/replay:", on_click=play.ask_again,
                      shortcut="Q")
    if mode.beat + 1 < len(mode.lesson.beats):
        nxt = mode.lesson.beats[mode.beat + 1]
        st.caption(t("lessons.next_beat", page=step(nxt.page).title(lang), text=_first_sentence(nxt.say.get(lang))))
    _moves(mode, "PageDown", "PageUp")




def _tally(mode: Mode, q: lessons.Question, c: ui.Current) -> None:
    try:
        tally = play.class_store().tally(mode.code, mode.secret)
    except play.STORE_ERRORS as e:
        st.error(play.store_error(e))
        return
    ask.tally(q, tally, c, show=bool(st.session_state.get(play._SHOW)))


def _toggle_show() -> None:
    st.session_state[play._SHOW] = not st.session_state.get(play._SHOW)


def _first_sentence(text: str) -> str:
    for end in (". ", "? ", "! ", "다. ", "요. "):
        if end in text:
            return text[: text.index(end) + len(end.rstrip())]
    return text


def _join_card(mode: Mode, where: str) -> None:
    a = serve.current_addresses()
    url = links.address(a.network or a.local, "", {"class": mode.code, "lang": None})
    st.caption(t("lessons.join_with_code"))
    st.container(key=f"lesson_code_{where}").markdown(mode.code)
    st.image(join.qr_png(url), width=260, alt=describe.qr(url))
    st.code(url, language=None, wrap_lines=True)
    if a.why_not == "localhost_only":
        st.warning(t("models.join_localhost_only", url=a.local))
        st.code(a.command, language=None, wrap_lines=True)
    elif not a.network:
        st.warning(t("models.join_no_network"))


def _learner(mode: Mode) -> None:
    lang = current_language()
    state = mode.state
    st.session_state[play._DRAWN] = mode.version
    st.caption(_heading(mode) + " · " + t("lessons.class_code", code=mode.code))
    st.fragment(_follow, run_every=play.POLL_S)()
    if mode.away:
        st.info(t("lessons.away_class", k=mode.beat + 1, page=step(mode.current.page).title(lang)))
        st.button(t("lessons.back_class"), key="lesson_back", icon=":material/undo:", on_click=play.back,
                  type="primary")
        return
    with st.expander(t("lessons.teacher_says"), expanded=False):
        st.markdown(mode.current.say.get(lang))
    q = mode.current.question
    if q is None or state is None:
        return
    asked_here = state.asked == mode.beat and state.phase in (store.OPEN, store.REVEALED, store.CLOSED)
    if not asked_here:
        st.caption(t("lessons.wait_question"))
        return
    c = ui.current(download=False)
    s = play.class_store()
    try:
        own = s.own_answer(mode.code, mode.me, state.question_id)
    except play.STORE_ERRORS as e:
        st.error(play.store_error(e))
        return
    if state.phase == store.REVEALED:
        ask.reveal(q, ask.solve(q, c), own, c)
        return
    if state.phase == store.CLOSED:
        st.caption(t("lessons.closed"))
        return
    value = ask.ask(q, c, key=f"lesson_q{state.question_id}", given=own)
    if value is None:
        return
    answer = ask.solve(q, c)
    right = not isinstance(answer, Exception) and ask.judge(q, answer, value).right
    try:
        s.answer(mode.code, mode.me, state.question_id, value, right)
    except play.STORE_ERRORS as e:
        st.error(play.store_error(e))
        return
    st.rerun(scope="app")  # the answer is shown as the learner's own, read back from the store


def _follow() -> None:
    """A learner's poll: the class's state; a full run when the presenter changed it (a beat, a question, a reveal)."""
    mode: Mode | None = st.session_state.get(MODE)
    if mode is None or not mode.in_class:
        return
    try:
        state = play.class_store().state(mode.code)
    except play.STORE_ERRORS:
        st.rerun(scope="app")  # the full run says what is wrong, in the page's language
    # a new version, or one a full run read but never drew (a poll queued behind it ran in its place, on the old page)
    if state.version != mode.version or st.session_state.get(play._DRAWN) != mode.version:
        st.rerun(scope="app")


def _scroll() -> None:
    anchor, nonce = st.session_state.get(play._SCROLL) or ("", 0)
    if not anchor:
        return
    try:
        from app.components import scroll
    except ImportError:
        return
    scroll.to(anchor, nonce=nonce, key="lesson_scroll")
