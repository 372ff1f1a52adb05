"""The three lenses of issue 27 (vit_core/lens.py): hand-worked cases on two-number tokens, the same numbers as
explain_block and as transformers (its hidden states, LayerNorm, classifier and layers) compute them, and
`python -m vit_core lens`."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vit_core import NoHead, ViT, ViTConfig, save_model
from vit_core.cli import main
from vit_core.interventions import Intervention
from vit_core.lens import lenses, logit_lens, residual_stream, similarity
from vit_core.model import explain_block

from tests.conftest import TEACHING, hf_model

# ---- hand-worked cases: a 4 × 4 picture of 2 × 2 patches (N = 4, T = 5), tokens of D = 2 numbers -------------------
# With D = 2, LayerNorm (weight 1, bias 0) sends a token [x, y] to [1, −1] when x > y and to [−1, 1] when x < y.
Z0 = [[3, 1], [0, 1], [5, 4], [1, 2], [2, 0]]  # cls, then patches 0–3; LN: +, −, +, −, +


def two_number_model(labels=("shirt", "shoe")) -> ViT:
    """One block, one head, two classes: the head reads [1, −1] as logits [2, −2] and [−1, 1] as [−2, 4]; V is the
    LayerNorm itself and the output projection scales it by (3, 4)."""
    model = ViT(ViTConfig(image_size=4, patch_size=2, hidden_size=2, num_hidden_layers=1, num_attention_heads=1,
                          intermediate_size=2, labels=labels))
    block = model.blocks[0]
    with torch.no_grad():
        for norm in (model.norm, block.norm1):
            norm.weight.fill_(1), norm.bias.zero_()
        if model.head is not None:
            model.head.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
            model.head.bias.copy_(torch.tensor([0.0, 1.0]))
        block.attn.v.weight.copy_(torch.eye(2)), block.attn.v.bias.zero_()
        block.attn.proj.weight.copy_(torch.diag(torch.tensor([3.0, 4.0]))), block.attn.proj.bias.zero_()
    return model.eval()


def trace_of(*hidden, attentions=()):
    """A trace of one picture with the given hidden states (T × D lists) and attentions (T × T lists, one head)."""
    t = lambda x: torch.tensor(x, dtype=torch.float32)[None]  # noqa: E731  (1, …): B = 1
    return SimpleNamespace(hidden_states=tuple(map(t, hidden)), attentions=tuple(t([a]) for a in attentions))


def test_logit_lens_by_hand():
    z1 = [[0, 2], [1, 0], [0, 3], [0, 1], [2, 7]]  # LN: −, +, −, −, −
    lens = logit_lens(two_number_model(), trace_of(Z0, z1))
    right, left = [2, -2], [-2, 4]  # the logits of a token that LayerNorm sends to [1, −1] and to [−1, 1]
    assert np.allclose(lens.logits, [[right, left, right, left, right], [left, right, left, left, left]], atol=1e-5)
    assert lens.votes.tolist() == [[0, 1, 0, 1, 0], [1, 0, 1, 1, 1]]
    assert lens.prediction == 1  # the cls token's vote after the last layer
    assert lens.agreement.tolist() == [0.5, 0.75]  # 2 of the 4 patches vote 1 at first, 3 of 4 after the block
    assert lens.logits.dtype == np.float32 and not lens.logits.flags.writeable


def test_logit_lens_of_a_model_without_a_head():
    with pytest.raises(NoHead, match="no classification head") as e:
        logit_lens(two_number_model(labels=()), trace_of(Z0, Z0))
    assert e.value.kind == "no_head"


def test_the_three_lenses_together_as_the_app_asks_for_them():
    """lenses(): the three records of the functions above, and, for a model without a head, no logit lens but the
    NoHead it raised (its kind is what the app translates) beside the other two."""
    z1 = [[0, 2], [1, 0], [0, 3], [0, 1], [2, 7]]
    attention = [[0.2] * 5] * 5
    trace, model = trace_of(Z0, z1, attentions=[attention]), two_number_model()
    found = lenses(model, trace)
    assert found.no_head is None and found.logit.votes.tolist() == logit_lens(model, trace).votes.tolist()
    assert np.array_equal(found.similarity.cosine, similarity(trace).cosine)
    assert np.array_equal(found.stream.mlp_added, residual_stream(model, trace).mlp_added)
    headless = lenses(two_number_model(labels=()), trace)
    assert headless.logit is None and headless.no_head.kind == "no_head"
    assert np.array_equal(headless.similarity.cosine, found.similarity.cosine)


def test_similarity_by_hand():
    z0 = [[1, 0], [2, 0], [0, 1], [-1, 0], [1, 1]]  # patch pairs: 0 · −1 · 1/√2 · 0 · 1/√2 · −1/√2
    z1 = [[-1, -1], [1, 1], [2, 2], [3, 3], [0.5, 0.5]]  # every patch the same way, cls the opposite way
    alike = similarity(trace_of(z0, z1))
    r = 1 / math.sqrt(2)
    assert np.allclose(alike.cosine[0], [[1, 1, 0, -1, r], [1, 1, 0, -1, r], [0, 0, 1, 0, r], [-1, -1, 0, 1, -r],
                                         [r, r, r, -r, 1]], atol=1e-6)
    assert np.allclose(alike.cosine[1, 0, 1:], -1, atol=1e-6)
    assert np.allclose(alike.patch_mean, [(r - 1) / 6, 1], atol=1e-6)  # cls and the diagonal left out


# attention: cls reads patch 0 (LN −); patch 0 half cls, half patch 1 (+); patch 1 four tokens evenly (sum 0);
# patch 2 reads patch 3 (+); patch 3 three quarters cls, a quarter patch 0 (+0.5). The head gives c·(3, −4): 5·|c|.
PROBS = [[0, 1, 0, 0, 0], [0.5, 0, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25, 0], [0, 0, 0, 0, 1], [0.75, 0.25, 0, 0, 0]]
ATTN = [[-3, 4], [3, -4], [0, 0], [3, -4], [1.5, -2]]
MLP = [[0, 0], [6, 8], [0, 0], [-5, 12], [0, 1]]  # what the MLP adds, by choice: norms 0, 10, 0, 13, 1
Z1 = (np.array(Z0) + ATTN + MLP).tolist()  # [0, 5], [9, 5], [5, 4], [−1, 10], [3.5, −1]


def test_residual_stream_by_hand():
    stream = residual_stream(two_number_model(), trace_of(Z0, Z1, attentions=[PROBS]), k=2)
    assert np.allclose(stream.attention_added, [[5, 5, 0, 5, 2.5]], atol=1e-5)
    assert np.allclose(stream.mlp_added, [[0, 10, 0, 13, 1]], atol=1e-5)
    s = np.sqrt
    assert np.allclose(stream.norms, [[s(10), 1, s(41), s(5), 2], [5, s(106), s(41), s(101), s(13.25)]])
    assert np.allclose(stream.cls, [s(10), 5])
    assert np.allclose(stream.patch_median, [(2 + s(5)) / 2, (s(41) + s(101)) / 2])  # between the middle two
    assert np.allclose(stream.patch_max, [s(41), s(106)])
    assert stream.largest.tolist() == [[1, 2], [0, 2]]  # patch numbers, largest first


def test_residual_stream_of_ablated_heads_by_hand():
    """With the only head ablated, attention adds nothing, and the whole step from z0 to z1 is the MLP's."""
    stream = residual_stream(two_number_model(), trace_of(Z0, Z1, attentions=[PROBS]), Intervention(ablate=((0, 0),)))
    assert np.allclose(stream.attention_added, 0)
    assert np.allclose(stream.mlp_added, np.linalg.norm(np.subtract(Z1, Z0), axis=-1))


def test_a_lens_reads_one_picture(tiny_model, pixels):
    with pytest.raises(ValueError, match="one picture"):
        similarity(tiny_model.trace(pixels))  # pixels holds two pictures


# ---- the same numbers by other means -------------------------------------------------------------------------------
def test_residual_stream_is_what_each_block_adds(tiny_model, pixels):
    """explain_block runs each block one named step at a time, Q, K and the softmax included: the lens, from the
    trace's attentions, V and the output projection alone, finds the same attention and MLP outputs."""
    trace = tiny_model.trace(pixels[:1])
    stream = residual_stream(tiny_model, trace)
    for i, block in enumerate(tiny_model.blocks):
        inside = explain_block(block, trace.hidden_states[i])
        assert np.allclose(stream.attention_added[i], inside.attn_out[0].norm(dim=-1), atol=1e-6)
        assert np.allclose(stream.mlp_added[i], inside.mlp_out[0].norm(dim=-1), atol=1e-5)


def test_residual_stream_of_a_trace_with_ablated_heads(tiny_model, pixels):
    """The trace's intervention passed on: the attention output is the one the model's own forward pass computes with
    those heads ablated (fused attention, `keep`), and the MLP's the rest of the step from z_{ℓ-1} to z_ℓ."""
    iv = Intervention(ablate=((0, 1), (1, 0), (1, 2)))
    trace = tiny_model.trace(pixels[:1], iv)
    stream = residual_stream(tiny_model, trace, iv)
    keep = torch.tensor([[1.0, 0, 1], [0, 1, 0]])  # (L, H): the heads left
    for i, block in enumerate(tiny_model.blocks):
        z = trace.hidden_states[i]  # (1, T, D)
        with torch.no_grad():
            a = block.attn(block.norm1(z), keep=keep[i])[0]  # (1, T, D)
            mlp = block.mlp(block.norm2(z + a))  # (1, T, D)
        assert torch.allclose(z + a + mlp, trace.hidden_states[i + 1], atol=1e-5)
        assert np.allclose(stream.attention_added[i], a[0].norm(dim=-1), atol=1e-5)
        assert np.allclose(stream.mlp_added[i], mlp[0].norm(dim=-1), atol=1e-5)
    assert not np.allclose(residual_stream(tiny_model, trace).attention_added, stream.attention_added, atol=1e-3)


def test_lenses_read_a_trace_or_its_arrays_alike(tiny_model, pixels):
    trace = tiny_model.trace(pixels[:1])
    arrays = trace.numpy()
    assert np.array_equal(logit_lens(tiny_model, trace).logits, logit_lens(tiny_model, arrays).logits)
    assert np.array_equal(similarity(trace).cosine, similarity(arrays).cosine)
    assert np.array_equal(residual_stream(tiny_model, trace).mlp_added, residual_stream(tiny_model, arrays).mlp_added)
    lens = logit_lens(tiny_model, trace)
    assert np.allclose(lens.logits[-1, 0], trace.logits[0], atol=1e-6)  # the cls token, last layer: the prediction
    assert lens.prediction == int(trace.logits[0].argmax())


@pytest.fixture(params=["teaching", "vit-b16-shape"])
def checkpoint(request):
    """The teaching model (50 tokens) and a random ViT-B/16-shaped classifier (197 tokens, 1000 classes)."""
    return TEACHING if request.param == "teaching" else request.getfixturevalue("big_model").removeprefix("path:")


def test_lenses_equal_transformers(checkpoint):
    """transformers does the same by other means: its hidden states, its own final LayerNorm and classifier on every
    token, cosine_similarity on every pair, and each layer's own attention and MLP modules."""
    from vit_core import load_model

    model = load_model(checkpoint).model
    S = model.config.image_size
    x = torch.randn(1, 3, S, S, generator=torch.Generator().manual_seed(0))
    hf = hf_model(checkpoint)
    trace = model.trace(x)
    with torch.no_grad():
        h = torch.stack(hf(pixel_values=x, output_hidden_states=True).hidden_states)[:, 0]  # (L+1, T, D)
        logits = hf.classifier(hf.vit.layernorm(h))  # (L+1, T, C)
        cosine = torch.nn.functional.cosine_similarity(h[:, :, None], h[:, None], dim=-1)  # (L+1, T, T)
        attn, mlp = [], []
        for z, layer in zip(h, hf.vit.layers):
            a = layer.attention(layer.layernorm_before(z[None]))[0][0]  # (T, D)
            attn.append(a)
            mlp.append(layer.mlp(layer.layernorm_after(z + a)))
    N = h.shape[1] - 1
    lens = logit_lens(model, trace)
    assert lens.logits.shape == (model.config.num_hidden_layers + 1, N + 1, model.config.num_labels)
    assert np.allclose(lens.logits, logits, atol=1e-5)
    votes = logits.argmax(-1)  # (L+1, T)
    assert np.allclose(lens.agreement, (votes[:, 1:] == votes[-1, 0]).float().mean(-1))
    alike = similarity(trace)
    assert np.allclose(alike.cosine, cosine, atol=1e-5)
    patches = cosine[:, 1:, 1:]
    assert np.allclose(alike.patch_mean, (patches.sum((1, 2)) - patches.diagonal(dim1=1, dim2=2).sum(1)) / (N * N - N),
                       atol=1e-5)
    stream = residual_stream(model, trace)
    assert np.allclose(stream.norms, h.norm(dim=-1), atol=1e-5)
    assert np.allclose(stream.attention_added, torch.stack(attn).norm(dim=-1), atol=1e-5)
    assert np.allclose(stream.mlp_added, torch.stack(mlp).norm(dim=-1), atol=1e-5)
    assert np.allclose(stream.patch_median, np.median(h[:, 1:].norm(dim=-1), axis=-1), atol=1e-5)
    assert np.array_equal(stream.largest, np.argsort(-h[:, 1:].norm(dim=-1).numpy(), axis=-1, kind="stable")[:, :5])


# ---- python -m vit_core lens ---------------------------------------------------------------------------------------
@pytest.fixture
def picture(tmp_path):
    from PIL import Image

    path = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 40, 3), dtype=np.uint8)).save(path)
    return path


def test_cli_lens_writes_the_three_lenses(tiny_model, picture, tmp_path, capsys):
    folder = save_model(tiny_model, tmp_path / "model")
    out = tmp_path / "lens.npz"
    assert main(["lens", str(picture), "--model", str(folder), "--out", str(out)]) == 0
    z = np.load(out)
    assert {k: z[k].shape for k in z.files} == {"logits": (3, 50, 5), "similarity": (3, 50, 50), "norms": (3, 50),
                                                "attention_added": (2, 50), "mlp_added": (2, 50), "labels": (5,)}
    assert all(z[k].dtype == np.float32 for k in z.files if k != "labels")
    assert list(z["labels"]) == list(tiny_model.config.labels)
    assert main(["trace", str(picture), "--model", str(folder), "--out", str(tmp_path / "trace.npz")]) == 0
    trace = np.load(tmp_path / "trace.npz")
    hidden = trace["hidden_states"][:, 0]  # (L+1, T, D): index 0 is z0, token 0 is cls, as in `trace`
    assert np.allclose(z["norms"], np.linalg.norm(hidden, axis=-1), atol=1e-5)
    assert np.allclose(z["logits"][-1, 0], trace["logits"][0], atol=1e-5)
    assert "prediction: " in capsys.readouterr().out


def test_cli_lens_reports_bad_inputs_cleanly(tiny_model, headless_model, picture, tmp_path, capsys):
    folder = save_model(tiny_model, tmp_path / "model")
    out = tmp_path / "x.npz"
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    for image, model, said in [(tmp_path / "nowhere.png", folder, "Cannot read"),
                               (bad, folder, "error: "),
                               (picture, tmp_path / "nowhere", "no checkpoint folder at"),
                               (picture, headless_model.removeprefix("path:"), "no classification head")]:
        assert main(["lens", str(image), "--model", str(model), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and said in err and "Traceback" not in err
    assert not out.exists()


def test_cli_lens_help_describes_the_npz(capsys):
    with pytest.raises(SystemExit):
        main(["lens", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for said in ("logits (L+1, T, C)", "similarity (L+1, T, T)", "norms (L+1, T)", "float32", "token 0 the cls token",
                 "layer 0 being the embeddings z0"):
        assert said in text
