"""Pictures in and out, in a real browser (Chromium through Playwright, against the app's real server): a demo after an
upload and the way back to the demos, refused files explained in the page in its language, the uploader's own words
in Korean and not cut off, big, tall and wide pictures, the crisp 28×28 preview, the cost arrow, the .npz download,
and two sessions that never see each other's picture.
"""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from app.numbers import number
from vit_core import images

from harness.browser import ARTIFACTS, UPLOADER, assert_no_exception, settle, settle_fully
from harness.browser import upload as harness_upload
from tests.conftest import ROOT

UPLOAD = UPLOADER
CHIPS = "[data-testid='stSidebar'] [data-testid='stFileChip']"
MAIN_IMAGES = "[data-testid='stMain'] [data-testid='stImage'] img"
ERROR = "[data-testid='stMain'] [data-testid='stAlertContentError']"
NAV = "[data-testid='stSidebarNav'] a"


def png(path, size, rgb=(200, 30, 30), fmt="PNG") -> str:
    Image.new("RGB", size, rgb).save(path, fmt)
    return str(path)


def new_page(chromium, app_server, locale="en-US", width=1366, height=900, **extra):
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=locale, **extra)
    page = context.new_page()
    page.goto(app_server)
    page.locator("h1").first.wait_for(timeout=90_000)
    settle_fully(page, 90_000)  # every piece drawn and quiet: an upload sent while the first run still draws can be lost
    return page


def upload(page, path: str, then: str) -> None:
    """Upload the file at `path` (harness.browser.upload: hop by hop) and see the page say `then`."""
    harness_upload(page, path)
    shows(page, then, 10_000)
    assert_no_exception(page, f"after uploading {os.path.basename(path)}")


def choose_demo(page, title: str, caption: str) -> None:
    """The demo picker (a combobox): open it and click the option; wait for the picture's caption to say `caption`."""
    page.locator(".st-key-demo input").click()
    page.get_by_role("option", name=title, exact=True).click()
    shows(page, caption)
    assert_no_exception(page, f"after choosing {title}")


def first_caption(page) -> str:
    return page.locator("[data-testid='stMain'] [data-testid='stImageCaption']").first.inner_text()


def shows(page, text: str, timeout: float = 90_000) -> None:
    """Wait until the page says `text` and nothing on it is stale (a rerun may start a moment after the action)."""
    page.wait_for_function("""text => document.querySelector('[data-testid="stMain"]').innerText.includes(text)
                                       && !document.querySelector('[data-stale="true"]')""", arg=text, timeout=timeout)
    settle(page, timeout)


def shown_picture(page) -> dict:
    """The first picture of the page ("Your picture"): its size on screen and in the file, and its column's width."""
    return page.locator(MAIN_IMAGES).first.evaluate("""i => { const r = i.getBoundingClientRect();
        const col = i.closest('[data-testid="stColumn"]').getBoundingClientRect();
        return {w: r.width, h: r.height, natural: [i.naturalWidth, i.naturalHeight], column: col.width,
                src: i.src}; }""")


def fetch_picture(page, src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB"))


# ---- a demo after an upload, and the way back ------------------------------------------------------------------------
def test_a_demo_replaces_an_upload_and_the_way_back_is_obvious(app_server, chromium, tmp_path):
    page = new_page(chromium, app_server)
    demo_input = page.locator(".st-key-demo input")
    assert demo_input.input_value() == "Fu Bao · 28×28"
    upload(page, png(tmp_path / "red.png", (90, 60)), "90×60 pixels as uploaded")
    assert demo_input.input_value() == "" and demo_input.get_attribute("placeholder") == "Your own picture"

    choose_demo(page, "Fu Bao · 512×384", "512×384 pixels. The red square")  # replaces the upload
    assert page.locator(CHIPS).count() == 0, "the uploader still holds the upload"

    (tmp_path / "notes.txt.png").write_bytes(b"Shopping list: eggs, milk")
    upload(page, str(tmp_path / "notes.txt.png"), "notes.txt.png")  # not a picture: the message says "pick a demo"
    error = page.locator(ERROR)
    assert "notes.txt.png" in error.inner_text() and "pick a demo picture" in error.inner_text()
    choose_demo(page, "Fu Bao · 512×384", "512×384 pixels. The red square")  # shown before: works
    assert page.locator(ERROR).count() == 0

    upload(page, png(tmp_path / "blue.png", (70, 50), (20, 20, 220)), "70×50 pixels as uploaded")
    page.get_by_role("button", name="Back to the demo pictures").click()
    shows(page, "512×384 pixels. The red square")  # the demo the upload replaced
    assert page.locator(CHIPS).count() == 0 and demo_input.input_value() == "Fu Bao · 512×384"
    assert page.get_by_role("button", name="Back to the demo pictures").count() == 0
    page.context.close()


# ---- refused files, and the uploader's own words -----------------------------------------------------------------
def uploader_words(page) -> dict:
    """What the uploader shows: its visible text, its button's and drop overlay's words (CSS), whether Streamlit's
    instructions are shown, and any text cut off with an ellipsis in the picture picker."""
    return page.evaluate("""() => {
        const box = document.querySelector('.st-key-picture_upload');
        const button = box.querySelector('[data-testid="stFileUploaderDropzone"] '
            + '[data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"]');
        const instructions = box.querySelector('[data-testid="stFileUploaderDropzoneInstructions"]');
        const cut = [...document.querySelectorAll('.st-key-picture_upload *, .st-key-demo label *')].filter(e =>
            e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).textOverflow === 'ellipsis'
            && e.textContent.trim()).map(e => e.textContent);
        return {text: box.innerText, button: button && getComputedStyle(button, '::after').content,
                instructions: instructions ? getComputedStyle(instructions).display : 'none', cut,
                demoLabel: document.querySelector('.st-key-demo label').innerText};
    }""")


def test_refused_files_are_explained_in_the_page_in_korean(app_server, chromium, tmp_path):
    page = new_page(chromium, app_server, locale="ko-KR")
    words = uploader_words(page)
    assert words["button"] == '"그림 올리기"' and words["instructions"] == "none" and not words["cut"], words
    assert f"최대 {images.MAX_MB} MB" in words["text"] and "(required)" not in words["demoLabel"], words
    for english in ("Upload", "Drag and drop", "per file", "Browse files", "required"):
        assert english not in words["text"] + words["demoLabel"], (english, words)
    dropzone = page.locator(".st-key-picture_upload [data-testid='stFileUploaderDropzone']")
    dragged = page.evaluate_handle("() => { const d = new DataTransfer();"
                                   " d.items.add(new File(['x'], 'a.png', {type: 'image/png'})); return d; }")
    dropzone.dispatch_event("dragenter", {"dataTransfer": dragged})
    overlay = dropzone.locator("> div > span").first
    overlay.wait_for()
    assert overlay.evaluate("e => getComputedStyle(e, '::after').content") == '"여기에 그림을 놓으세요"'
    assert overlay.evaluate("e => getComputedStyle(e).fontSize") == "0px"  # Streamlit's English is not shown
    dropzone.dispatch_event("dragleave", {"dataTransfer": dragged})

    # over MAX_MB: the browser does not send it (app/pictures._GUARD), and the page says why, in Korean
    big = tmp_path / "큰사진.png"
    big.write_bytes(b"\x89PNG" + os.urandom(images.MAX_BYTES + 1000))
    page.locator(UPLOAD).set_input_files(str(big))
    shows(page, "큰사진.png")
    message = page.locator(ERROR).inner_text()
    assert "큰사진.png" in message and "(10.1 MB)" in message and f"최대 {images.MAX_MB} MB" in message, message
    assert "화면의 그림은 그대로입니다" in message, message
    assert page.locator(CHIPS).count() == 0, "Streamlit's uploader got the file"
    assert "28×28" in first_caption(page), "the picture on screen changed"
    assert_no_exception(page, "after a file too large")
    page.screenshot(path=str(tmp_path / "refused.png"))

    # far over Streamlit's own limit, dropped on the box: the same message, no English chip, no overlay left behind
    dropzone = page.locator(".st-key-picture_upload [data-testid='stFileUploaderDropzone']")
    dragged = page.evaluate_handle("""([size, name]) => { const d = new DataTransfer();
        d.items.add(new File([new Uint8Array(size)], name, {type: 'image/jpeg'})); return d; }""",
                                   [(images.UPLOAD_MB + 1) * 2**20, "huge.jpg"])
    dropzone.dispatch_event("dragenter", {"dataTransfer": dragged})
    dropzone.locator("> div > span").first.wait_for()  # the drop overlay, as a person dragging sees it
    dropzone.dispatch_event("drop", {"dataTransfer": dragged})
    shows(page, "huge.jpg")
    message = page.locator(ERROR).inner_text()
    assert f"({number(images.UPLOAD_MB + 1)} MB)" in message and f"최대 {images.MAX_MB} MB" in message, message
    assert page.locator(CHIPS).count() == 0 and "MB or smaller" not in page.locator("body").inner_text()
    assert page.locator(".st-key-picture_upload [data-testid='stFileUploaderDropzone'] > div > span").count() == 0

    # a file between MAX_MB and Streamlit's limit that reaches the server anyway (a client without the guard, here
    # the guard switched off): the server refuses it in the page's language
    page.evaluate("() => { window.__vitUploadGuard.limit = Infinity; }")
    upload(page, str(big), "큰사진.png")
    message = page.locator(ERROR).inner_text()
    assert "큰사진.png" in message and f"최대 {images.MAX_MB} MB" in message and "(10.1 MB)" not in message, message
    assert page.locator("[data-testid='stFileChipIconError']").count() == 0, "Streamlit refused it, not the app"
    page.evaluate(f"() => {{ window.__vitUploadGuard.limit = {images.MAX_BYTES}; }}")

    # a long name: the chip wraps it (Streamlit's own script still shortens it in the middle); the page names it whole
    heic = tmp_path / "IMG_20261202_143055_우리_가족_사진_원본.heic"
    heic.write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 200)
    upload(page, str(heic), "HEIC")
    message = page.locator(ERROR).inner_text()
    assert heic.name in message and "HEIC 파일은 지원하지 않습니다" in message, message
    assert page.locator(CHIPS).count() == 1, "the chips pile up"
    assert not uploader_words(page)["cut"]
    page.context.close()


# ---- big, tall and wide pictures; the 28×28 preview; the cost arrow -------------------------------------------------
def test_the_28x28_preview_is_crisp_and_framed_outside_its_pixels(app_server, chromium):
    page = new_page(chromium, app_server)
    shown = shown_picture(page)
    assert shown["natural"] == [342, 342] and shown["w"] == 342 and shown["h"] == 342, shown  # no browser scaling
    assert shown["src"].endswith(".png"), "a JPEG blurs hard pixel edges"
    pixels = fetch_picture(page, shown["src"])
    demo = np.asarray(Image.open(ROOT / "assets" / "images" / "fubao_28.png").convert("RGB"))
    inside = pixels[3:-3, 3:-3]  # the frame is the outer 3 px: the 28×28 pixels are all there, 12 × 12 each
    assert np.array_equal(inside, demo.repeat(12, 0).repeat(12, 1))
    # the frame: red dashed with black (plots.mark: not told by colour alone), nothing else in it
    for frame in (pixels[:3], pixels[-3:], pixels[:, :3], pixels[:, -3:]):
        red, black = (frame == (230, 40, 40)).all(-1), (frame == 0).all(-1)
        assert (red | black).all() and red.mean() > 0.4 and black.mean() > 0.3, (red.mean(), black.mean())
    page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_big_tall_and_wide_pictures(app_server, chromium, tmp_path, width):
    phone = dict(is_mobile=True, has_touch=True) if width == 390 else {}
    page = new_page(chromium, app_server, width=width, height=844 if phone else 900, **phone)
    cases = [((50, 10_000), "PNG"), ((10_000, 50), "PNG"), ((6000, 4000), "JPEG")]
    for (w, h), fmt in cases:
        path = png(tmp_path / f"picture_{w}x{h}.{fmt.lower()}", (w, h), (40, 120, 200), fmt)
        if phone:  # the phone's sidebar is closed: open it, upload, close it
            page.locator("[data-testid='stExpandSidebarButton']").click()
        upload(page, path, f"{w}×{h} pixels as uploaded")
        if phone:
            page.locator("[data-testid='stSidebarCollapseButton'] button").click()
            page.wait_for_timeout(400)
        shown = shown_picture(page)
        assert shown["h"] <= 560 and shown["w"] <= shown["column"] + 0.5, shown  # sane, and within its column
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pictures_photo_{width}.png"))
    page.context.close()


def test_the_cost_arrow_says_which_way_the_cost_goes(app_server, chromium):
    page = new_page(chromium, app_server)
    cost = page.locator("[data-testid='stMetric']").last
    assert cost.locator("[data-testid^='stMetricDeltaIcon']").count() == 0  # P = 4, the model's own: no change
    slider = page.locator(".st-key-whatif_p input[type='range']")
    slider.focus()
    page.keyboard.press("ArrowRight")  # P = 7: 17² = 289 attention scores against 50² = 2,500
    shows(page, "0.116×")
    assert cost.locator("[data-testid='stMetricDeltaIcon-Down']").count() == 1
    slider.focus()
    page.keyboard.press("Home")  # P = 2: 197² against 2,500
    shows(page, "15.5×")
    assert cost.locator("[data-testid='stMetricDeltaIcon-Up']").count() == 1
    page.context.close()


# ---- the .npz download -----------------------------------------------------------------------------------------------
def test_the_trace_download_is_named_and_says_what_was_traced(app_server, chromium):
    page = new_page(chromium, app_server)
    page.get_by_role("link", name="5 · Attention explorer").click()
    settle(page, 90_000)
    page.locator(".vx button[data-act='next-head']").click()  # layer 1, head 2
    page.wait_for_function("() => new URLSearchParams(location.search).get('head') === '2'", timeout=30_000)
    settle(page)  # the explorer's report has reached the server
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download the whole trace (.npz)").click()
    download = info.value
    assert download.suggested_filename == "fubao_28_teaching_trace.npz"
    npz = np.load(download.path(), allow_pickle=False)
    assert npz["picture_name"].item() == "Fu Bao the giant panda (28×28 drawing)"
    assert tuple(npz["picture_size"]) == (28, 28) and npz["model_id"].item() == "teaching"
    assert json.loads(npz["preprocess"].item())["crop_size"] == {"height": 28, "width": 28}
    assert (npz["view_layer"].item(), npz["view_head"].item()) == (1, 2) and "view_query" in npz
    assert npz["attentions"].shape == (6, 1, 4, 50, 50)
    page.context.close()


# ---- two sessions at once --------------------------------------------------------------------------------------------
def test_two_sessions_never_see_each_others_picture(app_server, chromium, tmp_path):
    red = new_page(chromium, app_server)
    blue = new_page(chromium, app_server, locale="ko-KR")
    red.locator(UPLOAD).set_input_files(png(tmp_path / "red.png", (90, 60), (220, 20, 20)))  # both at once
    blue.locator(UPLOAD).set_input_files(png(tmp_path / "blue.png", (70, 50), (20, 20, 220)))
    shows(red, "90×60 pixels as uploaded")
    shows(blue, "올린 그대로 70×50 픽셀")
    for page, size, colour in ((red, "90×60", (220, 20, 20)), (blue, "70×50", (20, 20, 220))):
        page.locator(NAV).nth(1).click()  # step 2 and back: new runs of each session, one after the other
        settle(page, 90_000)
        page.locator(NAV).nth(0).click()
        page.locator("[data-testid='stMain'] [data-testid='stImageCaption']").first.wait_for(timeout=90_000)
        settle(page, 90_000)
        assert size in first_caption(page), first_caption(page)
        pixels = fetch_picture(page, shown_picture(page)["src"])
        middle = pixels[pixels.shape[0] // 2, pixels.shape[1] // 2]
        assert np.abs(middle.astype(int) - colour).max() <= 12, (size, middle)
    red.context.close()
    blue.context.close()
