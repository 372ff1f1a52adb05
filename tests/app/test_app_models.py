"""The model picker against a local directory laid out like the huggingface_hub cache, with no network: the picker
shows the model on screen, and a model that cannot be had now is explained in the page's language."""
import shutil
import string
import time

import huggingface_hub
import pytest

from app import models
from app.i18n import LANGUAGES, catalog
from app.numbers import number
from vit_core import NoNetwork, hub

from app.steps import STEPS, step

from tests.app.apptest import open_page, open_step, problems
from tests.conftest import ROOT
from tests.core.test_pretrained import SHAPES, put_in_cache, random_hf_model

PATCHES = STEPS[0].file


def sidebar_warnings(at) -> str:
    return " ".join(w.value for w in at.sidebar.warning)


def commands(at) -> list[str]:
    return [c.value for c in at.sidebar.code]


def notice(at) -> bool:
    """Whether the picker says why a model is not on screen (the sidebar may warn of other things too)."""
    return models.NOTICE in at.session_state


@pytest.mark.parametrize("lang, says", [("en", "downloads are switched off"), ("ko", "내려받기가 꺼져")])
def test_offline_and_not_cached_says_so_and_shows_the_model_on_screen(offline_cache, lang, says):
    at = open_step(PATCHES, model_choice="hub:vit-base-16", lang=lang)
    warning = sidebar_warnings(at)
    assert says in warning and "python -m vit_core fetch vit-base-16" in commands(at)
    assert at.selectbox(key="model_choice").value == "teaching"  # the picker says what the page shows
    assert "49" in at.title[0].value  # the teaching model, still working
    at.selectbox(key="model_choice").set_value("hub:deit-tiny-16").run()  # asking again answers again
    assert "deit-tiny-16" in sidebar_warnings(at) and at.selectbox(key="model_choice").value == "teaching"
    at.selectbox(key="model_choice").set_value("local").run()  # choosing something else forgets the warning
    assert not notice(at) and "python -m vit_core fetch deit-tiny-16" not in commands(at)


def closed_port() -> int:
    from harness.server import free_port

    return free_port()  # nothing listens there once the probe socket is closed


@pytest.mark.parametrize("lang, says", [("en", "this computer is offline"), ("ko", "오프라인이라")])
def test_no_network_is_said_at_once_and_the_picker_goes_back(offline_cache, monkeypatch, lang, says):
    """Downloads allowed but no network: the Download button's answer comes from a quick probe of the Hub, not from
    huggingface_hub's retries, and names the command; the picker goes back to the model on screen."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub, "endpoint", lambda: f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("tried to download"))
    at = open_step(PATCHES, model_choice="hub:vit-small-16", lang=lang)
    assert at.button(key="model_download") and not notice(at)
    started = time.perf_counter()
    at.button(key="model_download").click().run()
    print(f"answer to Download while offline: {time.perf_counter() - started:.2f} s (AppTest, in-process)")
    assert says in sidebar_warnings(at) and "python -m vit_core fetch vit-small-16" in commands(at)
    assert at.selectbox(key="model_choice").value == "teaching" and not problems(at)
    assert "49" in at.title[0].value


def test_a_cached_model_is_used_through_every_step(offline_cache, tmp_path):
    random_hf_model(tmp_path / "vit", num_labels=1000, **SHAPES["224px-P16-2layers"])
    put_in_cache(offline_cache, hub.get("vit-base-16"), tmp_path / "vit")
    at = open_step(PATCHES, model_choice="hub:vit-base-16", lang="ko")
    assert "196" in at.title[0].value and at.selectbox(key="model_choice").value == "hub:vit-base-16"
    assert "논문의 ViT-B/16" in " ".join(c.value for c in at.sidebar.caption)  # its description, in Korean
    for page in (step("attention").file, step("prediction").file):
        assert not problems(open_page(at, page)) and not at.error


def test_download_on_request_with_progress(offline_cache, tmp_path, monkeypatch):
    """Online but not cached: the size is stated, nothing downloads until asked, then the model is used."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    random_hf_model(tmp_path / "vit", num_labels=1000, **SHAPES["224px-P16-2layers"])
    calls = []

    def fake_fetch(name, progress=None):  # what huggingface_hub would do, without the network
        calls.append(name)
        progress("model.safetensors", 1, 2)
        progress("model.safetensors", 2, 2)
        return put_in_cache(offline_cache, hub.get(name), tmp_path / "vit")

    monkeypatch.setattr(hub, "fetch", fake_fetch)
    at = open_step(PATCHES, model_choice="hub:vit-base-16")
    assert at.button(key="model_download").label == f"Download ({number(hub.get('vit-base-16').size_mb)} MB)"
    assert "49 words" in at.title[0].value and not calls
    at.button(key="model_download").click().run()
    assert calls == ["vit-base-16"] and not problems(at)
    assert "196 words" in at.title[0].value
    shutil.rmtree(offline_cache)  # and a failed download explains itself
    entry = hub.get("vit-base-16")

    def failing(name, progress=None):
        raise hub.error(NoNetwork, "download_failed", entry, why="HTTPError: 503")

    monkeypatch.setattr(hub, "fetch", failing)
    at.run()
    at.button(key="model_download").click().run()
    assert "could not be downloaded (HTTPError: 503)" in sidebar_warnings(at) and "49 words" in at.title[0].value
    assert at.selectbox(key="model_choice").value == "teaching"


def test_every_curated_model_and_error_kind_has_its_words_in_every_language():
    """Keys the app builds from names (models.about_<name>, models.error_<kind>), which tests/test_i18n.py cannot
    see: each exists in every language, and fills in from the params vit_core gives."""
    entry = hub.get("dino-small-16")
    params = hub.error(NoNetwork, "no_network", entry, host="huggingface.co", why="x", choices="y").params
    for lang in LANGUAGES:
        words = catalog(lang)
        for m in hub.CURATED:
            assert words.get(f"models.about_{m.name.replace('-', '_')}"), (lang, m.name)
        for kind in hub.MESSAGES:
            text = words[f"models.error_{kind}"]
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields <= set(params), (lang, kind, fields - set(params))
            if kind != "not_curated":  # every answer says what to do: the command, shown below the text
                assert "command" in params and ("below" in text or "아래" in text), (lang, kind)


def test_the_hub_and_its_errors_stay_language_free():
    """vit_core's curated list and errors are English with kind/params; the translations live in the app."""
    files = [ROOT / "vit_core" / "hub.py", ROOT / "vit_core" / "errors.py"]
    assert not [p.name for p in files if any("가" <= ch <= "힣" for ch in p.read_text("utf-8"))]
