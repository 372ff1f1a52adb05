"""The whole app through AppTest: every page from the entry point, uploads, bad uploads, languages, sessions."""
import io

import numpy as np
import pytest
from PIL import Image

from .apptest import PAGES, open_page, problems, start, upload
from .bad_images import CASES


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
    would blur and the cached PNGs be decoded again each time. Only the photo is a JPEG."""
    at = open_page(start(), "steps/1_patches.py")
    assert not problems(at)
    formats = [img.url.rsplit(".", 1)[1] for el in at.get("image") for img in el.proto.imgs]
    assert formats == ["jpg", "png", "png", "png", "png"]  # photo, model's view, grid, patches apart, what-if grid


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
