"""What the pages say of the picture (issue 28, section 5; app/notes.py): what the model saw of it, on page 1 and
beside the prediction, and whether it is one of the model's classes, at the top of pages 6 and 8 with one click to a
Fashion-MNIST picture. Also the demo's own name as page 1's heading (section 3)."""
from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from app.steps import step
from tests.app.apptest import open_page, open_step, problems, upload
from vit_core import ViT, save_model
from vit_core.imagenet import imagenet_classes
from vit_core.model import init_weights

PATCHES, PREDICTION = step("patches").file, step("prediction").file
EXPERIMENTS, EXPLANATIONS = step("experiments").file, step("explanations").file
LANGS = ["en", "ko"]
STRIP = {"en": "The model saw the centre 50×50 of the 50×10000 picture: 0.5% of it.",
         "ko": "모델은 50×10000 그림의 가운데 50×50만 보았습니다: 그림의 0.5%입니다."}
ONE_PIXEL = {"en": "Enlarged from 1×1 pixel: the model sees one colour.",
             "ko": "1×1 픽셀 그림을 확대했습니다: 모델에게는 한 가지 색만 보입니다."}
TEN = {"en": "T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot",
       "ko": "티셔츠/탑, 바지, 풀오버, 드레스, 코트, 샌들, 셔츠, 스니커즈, 가방, 앵클부츠"}
NOT_A_CLASS = {"en": f"This picture shows none of the 10 classes this model knows ({TEN['en']}): whatever it predicts "
                     "is wrong, and this page is easier to follow on a Fashion-MNIST picture.",
               "ko": f"이 그림은 이 모델이 아는 10개 클래스({TEN['ko']}) 중 어느 것도 아니어서 무엇을 예측하든 틀리며, "
                     "이 페이지는 Fashion-MNIST 그림으로 보는 편이 따라가기 쉽습니다."}
SWITCH = {"en": "Show a Fashion-MNIST Sandal instead (test image #8)",
          "ko": "대신 Fashion-MNIST 샌들 그림 보기 (테스트 이미지 #8)"}  # the panda is predicted a sandal
KNOWS = {"en": f"This model knows 10 classes, and answers every picture with one of them: {TEN['en']}.",
         "ko": f"이 모델은 10개 클래스만 알고, 어떤 그림이든 그중 하나로 답합니다: {TEN['ko']}."}


def png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 80, 40)).save(buf, "PNG")
    return buf.getvalue()


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size, says", [((50, 10_000), STRIP), ((1, 1), ONE_PIXEL)], ids=["strip", "one_pixel"])
def test_an_upload_says_what_the_model_saw_on_page_1_and_beside_the_prediction(lang, size, says):
    at = upload(open_step(PATCHES, lang=lang), "picture.png", png(*size))
    assert warnings(at) == [says[lang]] and not problems(at)
    at = open_page(at, PREDICTION)
    assert warnings(at) == [says[lang]] and not problems(at)
    beside = [col for col in at.columns if col.metric and col.warning]  # in the column of the top-1 prediction
    assert len(beside) == 1 and [w.value for w in beside[0].warning] == [says[lang]]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", [EXPERIMENTS, EXPLANATIONS], ids=["experiments", "explanations"])
def test_the_panda_on_the_teaching_model_is_said_to_be_none_of_its_classes(lang, page):
    at = open_step(page, lang=lang)  # the default demo: Fu Bao, 28×28
    assert at.session_state["demo"] == "fubao_28"
    assert warnings(at) == [NOT_A_CLASS[lang]]
    assert at.button(key="switch_to_fashion").label == SWITCH[lang]
    shown = [e.type for e in at.main if e.type in ("title", "warning", "markdown")]
    assert shown[:3] == ["title", "warning", "markdown"]  # at the top: under the title, above the page's intro


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", [EXPERIMENTS, EXPLANATIONS], ids=["experiments", "explanations"])
def test_one_click_switches_to_a_fashion_mnist_picture(lang, page):
    at = open_step(page, lang=lang).button(key="switch_to_fashion").click().run()
    assert not problems(at) and not at.error
    assert at.session_state["demo"] == "fashion_8_sandal" and at.session_state["image"].demo == "fashion_8_sandal"
    assert at.selectbox(key="demo").value == "fashion_8_sandal"  # the sidebar's picker, and the link, say so
    assert not warnings(at) and "switch_to_fashion" not in [b.key for b in at.button]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", [EXPERIMENTS, EXPLANATIONS], ids=["experiments", "explanations"])
def test_a_fashion_mnist_demo_shows_no_note(lang, page):
    at = open_step(page, lang=lang)
    assert warnings(at) == [NOT_A_CLASS[lang]]  # the panda, on the same page
    at = at.selectbox(key="demo").select("fashion_6_coat").run()  # chosen in the sidebar's picker
    assert at.session_state["image"].demo == "fashion_6_coat" and not problems(at)
    assert not warnings(at) and "switch_to_fashion" not in [b.key for b in at.button]
    assert KNOWS[lang] not in [i.value for i in at.info]  # one of the classes: nothing to say of them
    for other in (PATCHES, PREDICTION):  # 28×28, seen whole: nothing to say of what the model saw
        assert not warnings(open_page(at, other)), other


@pytest.mark.parametrize("lang", LANGS)
def test_an_upload_hears_which_classes_the_model_knows_and_no_verdict(lang):
    at = upload(open_step(EXPLANATIONS, lang=lang), "cat.png", png(64, 64))
    assert KNOWS[lang] in [i.value for i in at.info]
    assert not warnings(at) and "switch_to_fashion" not in [b.key for b in at.button]


@pytest.mark.parametrize("page", [EXPERIMENTS, EXPLANATIONS], ids=["experiments", "explanations"])
def test_the_panda_on_a_model_of_imagenet_classes_is_one_of_them(tmp_path, tiny_model, page):
    """The note is about the model in use: on the paper's ImageNet models the panda is a class (giant panda)."""
    imagenet = init_weights(ViT(dataclasses.replace(tiny_model.config, labels=imagenet_classes())), seed=1)
    save_model(imagenet, tmp_path)
    at = open_step(page)
    assert warnings(at) == [NOT_A_CLASS["en"]]  # the panda on the teaching model
    at.session_state["model_choice"] = "local"  # the model picker's "A folder on this computer…"
    at.session_state["model_folder"] = str(tmp_path)
    at = at.run()
    assert at.session_state["demo"] == "fubao_28" and at.session_state["model_id"] == f"path:{tmp_path}"
    assert not problems(at) and not warnings(at) and "switch_to_fashion" not in [b.key for b in at.button]
    assert not any("knows" in i.value for i in at.info)  # nor a list of its 1000 classes


@pytest.mark.parametrize("lang, heading, alt", [
    ("en", "Fu Bao the giant panda (28×28 drawing)", "Fu Bao the giant panda (28×28 drawing): 28×28 pixels. The part"),
    ("ko", "푸바오 (28×28 그림)", "푸바오 (28×28 그림): 28×28 픽셀. 모델이 보는 부분"),
])
def test_page_1_heads_a_demo_by_its_name_and_an_upload_as_yours(lang, heading, alt):
    at = open_step(PATCHES, lang=lang)
    image = at.get("image")[0].proto.imgs[0]
    assert at.subheader[0].value == heading and image.alt.startswith(alt)
    assert not any(word in image.alt + image.caption for word in ("Your picture", "uploaded", "올린"))
    at = upload(at, "cat.png", png(64, 48))
    image = at.get("image")[0].proto.imgs[0]
    assert at.subheader[0].value == {"en": "Your picture", "ko": "올린 그림"}[lang]
    assert image.alt.startswith({"en": "Your picture, cat.png: 64×48 pixels as uploaded.",
                                 "ko": "올린 그림 cat.png: 올린 그대로 64×48 픽셀."}[lang])
