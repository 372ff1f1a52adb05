"""The whole app through AppTest: every page from the entry point, uploads, bad uploads, languages, sessions."""
import io

import numpy as np
import pytest
from PIL import Image

from app import core, pictures
from vit_core import images, views

from app.steps import STEPS

from tests.app.apptest import PAGES, open_page, problems, start, upload
from tests.bad_images import BY_NAME, CASES, encode


def png(rgb=(200, 30, 30), size=(90, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_page_renders_on_the_demo(lang):
    at = start(lang)
    for page in PAGES:
        open_page(at, page)
        assert not problems(at), (page, problems(at))
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title, page


def test_every_page_renders_on_an_upload():
    at = start()
    upload(at, "red.png", png())
    for page in PAGES:
        open_page(at, page)
        assert not problems(at) and not at.error, page


def test_language_switch_changes_the_text():
    at = start("en")
    english = at.title[0].value
    at.selectbox(key="lang").set_value("ko").run()
    assert at.title[0].value != english
    assert any("\uac00" <= ch <= "\ud7a3" for ch in at.title[0].value)  # Hangul
    at.selectbox(key="lang").set_value("en").run()
    assert at.title[0].value == english


BAD = [c for c in CASES if c.expect == "error"]
# every valid case is checked pixel by pixel in test_images.py; through the app, one of each kind of trouble
GOOD = [c for c in CASES if c.name in {"png-1x1", "png-10000x50", "png-50x10000", "jpeg-6000x4000", "jpeg-cmyk",
                                      "png-16bit-gray", "png-la", "png-palette-transparent", "gif-animated",
                                      "tiff-multipage", "jpeg-exif-orientation-6"}]
assert len(GOOD) == 11, "a case named above is missing from the corpus"


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_bad_upload_shows_a_message_and_the_app_recovers(case):
    at = start()
    upload(at, f"{case.name}.png", case.data)
    assert not problems(at)
    assert at.error, "no message for a bad upload"
    assert f"{case.name}.png" in at.error[0].value and "cannot be used" in at.error[0].value
    upload(at, "fine.png", png())
    assert not problems(at) and not at.error and at.title


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.name)
def test_odd_but_valid_uploads_work(case):
    at = start()
    upload(at, case.filename, case.data)
    assert not problems(at) and not at.error


def test_page_1_serves_its_pictures_in_the_format_they_were_encoded_in():
    """Given bytes without a format, st.image re-encodes a picture without alpha as JPEG on every run: the patch grids
    would blur and the cached PNGs be decoded again each time. A photo is a JPEG; the 28×28 demo, blown up with hard
    edges, a PNG."""
    at = open_page(start(), STEPS[0].file)
    assert not problems(at)
    formats = [img.url.rsplit(".", 1)[1] for el in at.get("image") for img in el.proto.imgs]
    assert formats[:5] == ["png", "png", "png", "png", "png"]  # 28×28 demo, model's view, grid, patches apart, what-if
    upload(at, "photo.jpg", encode(Image.new("RGB", (900, 600), (30, 120, 200)), "JPEG"))
    formats = [img.url.rsplit(".", 1)[1] for el in at.get("image") for img in el.proto.imgs]
    assert formats[:5] == ["jpg", "png", "png", "png", "png"]


# ---- the picture picker: demos and uploads -------------------------------------------------------------------------
def uploader(at):
    return at.get("file_uploader")[0]


def test_the_demo_picker_names_demos_by_their_file_name():
    at = start()
    assert at.selectbox(key="demo").options[0] == "Fu Bao · 28×28"  # short enough for the sidebar's box
    assert "Fu Bao the giant panda (28×28 drawing)" in [c.value for c in at.sidebar.caption]  # the full title below
    assert at.session_state["demo"] == "fubao_28" and at.session_state["image"].demo == "fubao_28"
    assert pictures.demo_ids()[:2] == ["fubao_28", "fubao_512"]


@pytest.mark.parametrize("preset, shown", [("fubao_512", "fubao_512"), ("no_such_demo", "fubao_28")])
def test_a_demo_named_before_the_picker_runs_is_shown(preset, shown):
    """A link (app/links.py) puts a demo's id in session state before the picker first runs; an unknown id gives the
    first demo."""
    from streamlit.testing.v1 import AppTest

    from tests.app.apptest import MAIN

    at = AppTest.from_file(MAIN, default_timeout=300)
    at.session_state["lang"] = "en"
    at.session_state["demo"] = preset
    at.run()
    assert not problems(at) and not at.error and not at.warning
    assert at.session_state["image"].demo == shown and at.selectbox(key="demo").value == shown


def test_a_demo_chosen_after_an_upload_replaces_it():
    at = start()
    upload(at, "red.png", png())
    assert at.session_state["image"].name == "red.png"
    assert at.selectbox(key="demo").value is None  # the picker shows no demo while the upload is shown
    at.selectbox(key="demo").set_value("fubao_512").run()
    assert not problems(at) and not at.error
    assert at.session_state["image"].demo == "fubao_512"
    assert uploader(at).value is None, "the uploader still holds the file"
    assert "back_to_demos" not in [b.key for b in at.button]  # no "back" button without an upload
    # the empty uploader takes a new file, which replaces the demo again
    uploader(at).upload("blue.png", png((20, 20, 220))).run()
    assert at.session_state["image"].name == "blue.png" and at.selectbox(key="demo").value is None


def test_a_demo_chosen_after_a_bad_upload_replaces_it():
    """The message says "pick a demo picture": picking one must work, even the demo that was shown before."""
    at = start()
    upload(at, "notes.png", b"Shopping list: eggs, milk")
    assert at.error and "pick a demo" in at.error[0].value
    at.selectbox(key="demo").set_value("fubao_28").run()
    assert not problems(at) and not at.error and at.session_state["image"].demo == "fubao_28"


def test_back_to_the_demos():
    at = start()
    at.selectbox(key="demo").set_value("fubao_512").run()
    upload(at, "red.png", png())
    at.button(key="back_to_demos").click().run()
    assert not problems(at) and not at.error
    assert at.session_state["image"].demo == "fubao_512"  # the demo the upload replaced
    assert uploader(at).value is None and at.selectbox(key="demo").value == "fubao_512"


def test_removing_the_upload_brings_back_its_demo():
    at = start()
    at.selectbox(key="demo").set_value("fubao_512").run()
    upload(at, "red.png", png())
    uploader(at).clear().run()
    assert not problems(at) and at.session_state["image"].demo == "fubao_512"
    assert at.selectbox(key="demo").value == "fubao_512"


# ---- refused files: the app says why, in the page, in the page's language ------------------------------------------
@pytest.mark.parametrize("lang, words", [("en", "too large (the limit is 10 MB)"), ("ko", "최대 10 MB")])
def test_a_file_over_the_limit_is_refused_in_the_page(lang, words):
    at = start(lang)
    upload(at, "huge.png", b"\x89PNG" + b"\0" * images.MAX_BYTES)
    assert not problems(at)
    assert at.error and words in at.error[0].value and "huge.png" in at.error[0].value
    assert uploader(at).proto.max_upload_size_mb == images.UPLOAD_MB > images.MAX_MB
    assert not uploader(at).allowed_type, "the uploader must filter no type: the app sees every file and says why"


@pytest.mark.parametrize("lang, words", [("en", "HEIC files are not supported"),
                                         ("ko", "HEIC 파일은 지원하지 않습니다")])
def test_a_file_of_a_type_we_do_not_read_is_refused_in_the_page(lang, words):
    at = start(lang)
    upload(at, "IMG_0001.heic", b"\0\0\0\x18ftypheic" + b"\0" * 200)
    assert not problems(at) and at.error and words in at.error[0].value


def test_a_file_name_is_shown_as_text():
    at = start()
    upload(at, "[click](http://example.com)*.png", b"not a picture")
    assert at.error and "\\[click\\](http://example.com)\\*.png" in at.error[0].value


# ---- big, tall and wide pictures -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["png-10000x50", "png-50x10000", "jpeg-6000x4000"])
def test_the_caption_gives_the_size_as_uploaded_and_the_picture_a_sane_size(name):
    case = BY_NAME[name]
    at = start()
    upload(at, case.filename, case.data)
    assert not problems(at) and not at.error
    w, h = images.load_picture(case.data).size
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert f"{w}×{h} pixels as uploaded" in captions[0], captions
    oh, ow = core.analyse(case.data, core.TEACHING_ID).original.shape[:2]
    assert max(ow, oh) <= views.DISPLAY_SIDE  # drawn at most this big, and shown at its own size at most (browser test)


def test_the_cost_arrow_points_the_way_the_cost_goes():
    at = open_page(start(), STEPS[0].file)
    metric = at.get("metric")[-1].proto
    assert metric.direction == metric.NONE and "1×" in metric.delta  # P = 4, the model's own
    at.select_slider(key="whatif_p").set_value(7).run()
    metric = at.get("metric")[-1].proto
    assert "0.116×" in metric.delta and metric.direction == metric.DOWN  # 289 / 2,500
    at.select_slider(key="whatif_p").set_value(2).run()
    metric = at.get("metric")[-1].proto
    assert metric.direction == metric.UP


# ---- the .npz download -----------------------------------------------------------------------------------------------
def test_the_trace_npz_carries_what_was_traced():
    a = core.analyse((pictures.IMAGES / "fubao_512.png").read_bytes(), core.TEACHING_ID)
    about = {"picture_name": "fubao_512.png", "picture_size": a.original_size, "model_id": "teaching",
             "preprocess": '{"crop_size": 28}', "view_layer": 3, "view_head": 2, "view_query": 17}
    npz = np.load(io.BytesIO(core.trace_npz(a, ("a", "b"), about)), allow_pickle=False)
    assert npz["picture_name"].item() == "fubao_512.png" and tuple(npz["picture_size"]) == (512, 384)
    assert npz["model_id"].item() == "teaching" and npz["view_layer"].item() == 3 and npz["view_head"].item() == 2
    assert npz["view_query"].item() == 17 and npz["attentions"].shape[0] == 6 and list(npz["labels"]) == ["a", "b"]


def test_two_sessions_never_see_each_others_image():
    a, b = start(), start()
    upload(a, "red.png", png((220, 20, 20)))
    upload(b, "blue.png", png((20, 20, 220)))
    a.run()
    b.run()
    ta, tb = a.session_state["image"], b.session_state["image"]
    assert ta[1] == "red.png" and tb[1] == "blue.png"
    red = np.asarray(Image.open(io.BytesIO(ta[0])))
    assert tuple(red[0, 0]) == (220, 20, 20)


@pytest.mark.parametrize("damage", ["pickle", "corrupt", "missing"])
def test_a_bad_checkpoint_folder_shows_a_message(tmp_path, tiny_model, damage):
    import torch

    from vit_core import save_model

    save_model(tiny_model, tmp_path)
    weights = tmp_path / "model.safetensors"
    if damage == "pickle":  # a torch.save file renamed .safetensors: refused, never unpickled
        torch.save(tiny_model.state_dict(), weights)
    elif damage == "corrupt":
        weights.write_bytes(weights.read_bytes()[:1000])
    else:
        weights.unlink()
    at = start(model_dir=tmp_path)
    assert not problems(at)
    assert at.error and "cannot be loaded" in at.error[0].value
    at.session_state["model_choice"] = "teaching"
    at.run()
    assert not problems(at) and not at.error and at.title
