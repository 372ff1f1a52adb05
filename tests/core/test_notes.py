"""What a page says of the picture (app/notes.py) from vit_core's record of what preprocessing did, at its limits,
and how the app knows whether a demo is one of the model's classes (app.pictures.shows_a_class)."""
from __future__ import annotations

import pytest

from app import i18n, notes, pictures
from vit_core.config import PreprocessConfig
from vit_core.data import LABELS
from vit_core.images import preparation
from vit_core.imagenet import imagenet_classes

TEACHING = PreprocessConfig()  # the largest centred square, resized to 28×28
SQUASH = PreprocessConfig(crop_size=224, resize_to=224, squash=True)  # Hugging Face's ViTImageProcessor


@pytest.fixture(params=["en", "ko"])
def lang(request, monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: request.param)
    return request.param


def said(size, pre=TEACHING) -> list[str]:
    return notes.seen(preparation(size, pre))


def test_the_sentences_in_both_languages(lang):
    expected = {
        "en": ["The model saw the centre 50×50 of the 50×10000 picture: 0.5% of it.",
               "Enlarged from 1×1 pixel: the model sees one colour.",
               "Enlarged 5.6 times, from 5×5 pixels to 28×28: the model sees no more detail than those 5×5 pixels "
               "hold.",
               "Squashed from 50×10000 pixels into a 224×224 square: along its long side, everything in it is "
               "squeezed 200 times."],
        "ko": ["모델은 50×10000 그림의 가운데 50×50만 보았습니다: 그림의 0.5%입니다.",
               "1×1 픽셀 그림을 확대했습니다: 모델에게는 한 가지 색만 보입니다.",
               "5×5 픽셀을 28×28 픽셀로 5.6배 확대했습니다: 모델은 그 5×5 픽셀에 담긴 것보다 자세히 볼 수 없습니다.",
               "50×10000 픽셀 그림을 224×224 정사각형으로 찌그러뜨렸습니다: 긴 쪽으로 모든 것이 200배 눌렸습니다."],
    }[lang]
    assert said((50, 10_000)) == expected[:1]
    assert said((1, 1)) == expected[1:2]
    assert said((5, 5)) == expected[2:3]
    assert said((50, 10_000), SQUASH) == expected[3:]


def test_said_only_beyond_the_limits(lang):
    """Less than half seen; enlarged more than 4 times; squashed beyond 2:1. Shrinking is never said."""
    assert said((28, 28)) == [] and said((4000, 3000)) == [] and said((512, 384)) == []
    assert said((56, 28)) == [] and len(said((57, 28))) == 1  # exactly half seen; just under half
    assert said((7, 7)) == [] and len(said((6, 6))) == 1  # enlarged 4 times; 4.67 times
    assert said((448, 224), SQUASH) == [] and len(said((449, 224), SQUASH)) == 1  # 2:1; just beyond
    assert len(said((5, 20))) == 2  # a quarter seen, and its centre 5×5 enlarged 5.6 times
    assert said((10_000, 10_000)) == []  # shrunk 357 times: what the model can use, it keeps


def test_a_demo_is_one_of_the_models_classes_only_where_the_app_knows():
    hf_imagenet = ("tench, Tinca tinca",) * 388 + ("giant panda, panda, panda bear, coon bear, Ailuropoda melanoleuca",)
    assert pictures.shows_a_class("fubao_28", LABELS) is False  # none of Fashion-MNIST's ten
    assert pictures.shows_a_class("fubao_28", imagenet_classes()) is True  # timm's names: "giant panda"
    assert pictures.shows_a_class("fubao_512", hf_imagenet) is True  # Hugging Face's synonyms
    assert pictures.shows_a_class("fashion_6_coat", LABELS) is True
    assert pictures.shows_a_class("sneaker_photo", LABELS) is True  # a drawing of one of the ten
    assert pictures.shows_a_class("sneaker_photo", imagenet_classes()) is None  # the manifest does not say
    assert pictures.shows_a_class("fubao_28", tuple(f"class {i}" for i in range(5))) is None  # a model of its own
    assert pictures.shows_a_class(None, LABELS) is None  # an upload: the app cannot know
    assert pictures.shows_a_class("fubao_28", ()) is None  # no classifier
    assert pictures.fashion_demo("Sandal") == "fashion_8_sandal" and pictures.fashion_demo("Sandals") == (
        "fashion_19_tshirt_top")  # one of no class there: the first Fashion-MNIST demo
