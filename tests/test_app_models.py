"""The model picker against a local directory laid out like the huggingface_hub cache, with no network."""
import shutil

from vit_core import NoNetwork, hub

from .apptest import open_page, open_step, problems
from .test_pretrained import SHAPES, put_in_cache, random_hf_model

PATCHES = "steps/1_patches.py"


def test_offline_and_not_cached_says_so_and_keeps_working(offline_cache):
    at = open_step(PATCHES, model_choice="hub:vit-base-16")
    assert any("offline" in w.value and "python -m vit_core fetch vit-base-16" in w.value for w in at.sidebar.warning)
    assert "49 words" in at.title[0].value  # the teaching model, still working


def test_a_cached_model_is_used_through_every_step(offline_cache, tmp_path):
    random_hf_model(tmp_path / "vit", num_labels=1000, **SHAPES["224px-P16-2layers"])
    put_in_cache(offline_cache, hub.get("vit-base-16"), tmp_path / "vit")
    at = open_step(PATCHES, model_choice="hub:vit-base-16")
    assert "196 words" in at.title[0].value
    for page in ("steps/5_attention.py", "steps/6_prediction.py"):
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
    assert at.button(key="model_download").label == f"Download ({hub.get('vit-base-16').size_mb:g} MB)"
    assert "49 words" in at.title[0].value and not calls
    at.button(key="model_download").click().run()
    assert calls == ["vit-base-16"] and not problems(at)
    assert "196 words" in at.title[0].value
    shutil.rmtree(offline_cache)  # and a failed download explains itself
    monkeypatch.setattr(hub, "fetch", lambda name, progress=None: (_ for _ in ()).throw(NoNetwork("no network")))
    at.run()
    at.button(key="model_download").click().run()
    assert any("could not be downloaded" in e.value for e in at.sidebar.error) and "49 words" in at.title[0].value
