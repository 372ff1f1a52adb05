"""The teaching model's card, written from what training measured: README.md (English, the card the Hugging Face Hub
reads) and README.ko.md (Korean, the same numbers), next to its weights."""
from __future__ import annotations

import json
from pathlib import Path

from .config import ViTConfig
from .data import class_names

CARD = """---
license: mit
library_name: transformers
pipeline_tag: image-classification
datasets:
- fashion_mnist
metrics:
- accuracy
---
# fashion-vit: the ViT Explainer's teaching model

A Vision Transformer as Dosovitskiy et al. (ICLR 2021, arXiv:2010.11929v2) describe it: pre-norm blocks (§3.1,
Eq. 2–3), a learned cls token and learned 1-D position embeddings (§3.1, Eq. 1), an MLP with GELU (§3.1), a final
LayerNorm (Eq. 4) and a linear head on the cls token (§3.1), at the scale of the lesson: {S}×{S} RGB input cut into
{P}×{P} patches, so {N} patches + 1 cls token = {T} tokens. Two details the paper does not specify follow the
defaults of transformers' `ViTConfig`, the format this checkpoint is saved in: biases on the query, key and value
projections (`qkv_bias=True`) and the exact, erf-based GELU (`hidden_act="gelu"`). It is a Hugging Face ViT
checkpoint: `transformers.ViTForImageClassification.from_pretrained(<this folder>)` loads it unchanged.

| | |
|---|---|
| input | {S}×{S}×3, normalised with mean {mean}, std {std} |
| patches | {P}×{P} → {N} patches of {PPC} values |
| width D / depth L / heads H / MLP | {D} / {L} / {H} / {MLP} |
| parameters | {params:,} |
| checkpoint | `model.safetensors`, {size_kb:.0f} KB (float32) |
| classes | {classes} |

## Data
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; © Zalando SE, MIT licence), from Debian's `dataset-fashion-mnist`:
60,000 training and 10,000 test images, 28×28 grey. Grey is repeated into the three RGB channels.

## Training recipe
- {epochs} epochs, batch {batch}, AdamW (lr {lr}, weight decay {wd} on matrices only), {warmup} warm-up epochs then
  cosine decay, label smoothing {ls}, gradient clipping at 1.0, seed {seed}, no dropout.
- Augmentation, so that the photos users upload are closer to the training distribution: random shifts (±2 px),
  zoom (0.9–1.1×) and mirror images; 50 % of images as in the data set (white on black), 20 % inverted (black on
  white) and 30 % with a random foreground and background colour (tints).
- Reproduce: `python -m vit_core train --out assets/models/fashion-vit` (torch {torch}, CPU, {threads} threads).
- Wall time: {wall_min:.0f} min{on_machine}.

## Results on the Fashion-MNIST test set (10,000 images, un-augmented)
**Accuracy: {acc:.2%}**

| class | accuracy |
|---|---|
{per_class}

Check it: `python -m vit_core evaluate` (the last line printed is `accuracy: …`).

{extras}## Limits
It knows ten kinds of clothing at 28×28 pixels and nothing else: a panda, a cat or a car gets one of these ten
labels. It exists to make every tensor of a real trained ViT small enough to show; its attention patterns are
cruder than a large pre-trained ViT's.
"""


CARD_KO = """# ViT Explainer의 교육용 모델, fashion-vit

Dosovitskiy 외(ICLR 2021, arXiv:2010.11929v2)가 설명한 Vision Transformer를 수업에 맞는 크기로 만든 모델입니다.
pre-norm 블록(§3.1, 식 2–3), 학습되는 cls 토큰과 학습되는 1차원 위치 임베딩(§3.1, 식 1), GELU를 쓰는 MLP(§3.1),
마지막 LayerNorm(식 4), cls 토큰에 붙은 선형 헤드(§3.1)가 논문을 따릅니다. {S}×{S} RGB 입력을 {P}×{P} 패치로
잘라, 패치 {N}개 + cls 토큰 1개 = 토큰 {T}개가 됩니다. 논문이 정하지 않은 두 가지는 이 체크포인트의 형식인
transformers `ViTConfig`의 기본값을 따릅니다: 쿼리·키·값 사영의 편향(`qkv_bias=True`)과 erf로 계산하는
정확한 GELU(`hidden_act="gelu"`). Hugging Face 형식의 ViT 체크포인트라서
`transformers.ViTForImageClassification.from_pretrained(<이 폴더>)`로 그대로 불러올 수 있습니다.

| | |
|---|---|
| 입력 | {S}×{S}×3, 평균 {mean}, 표준편차 {std}로 정규화 |
| 패치 | {P}×{P} → 값 {PPC}개짜리 패치 {N}개 |
| 폭 D / 깊이 L / 헤드 수 H / MLP | {D} / {L} / {H} / {MLP} |
| 파라미터 수 | {params:,} |
| 체크포인트 | `model.safetensors`, {size_kb:.0f} KB (float32) |
| 클래스 | {classes} |

## 데이터
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; MIT 라이선스, © Zalando SE), Debian 패키지 `dataset-fashion-mnist`:
학습 이미지 60,000장과 테스트 이미지 10,000장, 28×28 회색조입니다. 회색 값을 RGB 세 채널에 똑같이 넣습니다.

## 학습 방법
- {epochs} 에포크, 배치 {batch}, AdamW (학습률 {lr}, 가중치 감쇠 {wd}는 행렬에만), 워밍업 {warmup} 에포크 뒤
  코사인 감쇠, 레이블 스무딩 {ls}, 그래디언트 클리핑 1.0, 시드 {seed}, 드롭아웃 없음.
- 사용자가 올리는 사진이 학습 데이터의 분포에 더 가까워지도록 데이터를 증강했습니다: 무작위 이동(±2 px),
  확대·축소(0.9–1.1배), 좌우 반전. 이미지의 50 %는 데이터 세트 그대로(검은 바탕에 흰색), 20 %는 반전(흰 바탕에
  검은색), 30 %는 전경색과 배경색을 무작위로 입혔습니다.
- 재현: `python -m vit_core train --out assets/models/fashion-vit` (torch {torch}, CPU, 스레드 {threads}개).
- 걸린 시간: {wall_min:.0f}분{on_machine}.

## Fashion-MNIST 테스트 세트의 결과 (이미지 10,000장, 증강 없음)
**정확도: {acc:.2%}**

| 클래스 | 정확도 |
|---|---|
{per_class}

확인: `python -m vit_core evaluate` (마지막 줄에 `accuracy: …`가 출력됩니다).

{extras}## 한계
28×28 픽셀의 옷 열 가지만 알고 그 밖에는 아무것도 모릅니다. 판다, 고양이, 자동차를 보여 줘도 이 열 가지 중
하나로 답합니다. 실제로 학습된 ViT의 텐서를 모두 보여 줄 수 있을 만큼 작게 만드는 것이 목적이며, 어텐션 무늬는
큰 사전 학습 ViT보다 거칩니다.
"""

# Notes written into training.json's machine record by hand, in Korean (an unknown note is quoted as it is).
NOTES_KO = {"shared with other work while it ran": "학습하는 동안 다른 작업도 함께 돌았습니다"}


def write_model_card(folder: str | Path) -> Path:
    """README.md and README.ko.md in `folder`, from its config, preprocessing and training.json; returns README.md."""
    folder = Path(folder)
    cfg = ViTConfig.from_hf_dict(json.loads((folder / "config.json").read_text()))
    pre = json.loads((folder / "preprocessor_config.json").read_text())
    s = json.loads((folder / "training.json").read_text())
    tc = s["train_config"]
    values = dict(
        S=cfg.image_size, P=cfg.patch_size, N=cfg.num_patches, T=cfg.num_tokens, PPC=cfg.patch_dim,
        D=cfg.hidden_size, L=cfg.num_hidden_layers, H=cfg.num_attention_heads, MLP=cfg.intermediate_size,
        mean=pre["image_mean"], std=pre["image_std"], params=s["parameters"],
        size_kb=(folder / "model.safetensors").stat().st_size / 1024,
        epochs=tc["epochs"], batch=tc["batch_size"], lr=tc["lr"], wd=tc["weight_decay"], warmup=tc["warmup_epochs"],
        ls=tc["label_smoothing"], seed=tc["seed"], torch=s["torch"], threads=s["threads"],
        wall_min=s["wall_time_s"] / 60, acc=s["test_accuracy"],
    )
    cards = {"README.md": (CARD, {}, on_machine, extras(folder, "en")),
             "README.ko.md": (CARD_KO, class_names("ko"), on_machine_ko, extras(folder, "ko"))}
    for file, (template, names, machine, more) in cards.items():
        named = lambda label: names.get(label, label)  # noqa: E731 — a class the table does not know: as it is
        (folder / file).write_text(template.format(
            **values, extras=more, classes=", ".join(named(c) for c in cfg.labels),
            on_machine=machine(s.get("machine")),
            per_class="\n".join(f"| {named(c)} | {acc:.2%} |" for c, acc in s["per_class_accuracy"].items())),
            encoding="utf-8")
    return folder / "README.md"


EXTRAS = {
    "en": {"snapshots": """## Snapshots of the training run
`snapshots/epoch_NN.safetensors`: the weights after epochs {epochs} of the run above (0: the initial random
weights, before any step), in the same layout as `model.safetensors`; test accuracy {accs}. Made by
`python -m vit_core train --threads {threads} --stop-after {last} --out DIR` (its `DIR/snapshots/` copied here),
which runs the same seed and learning-rate schedule and stops early: its first epochs are the run above, bit for bit
on the same torch build and thread count (their training losses, in `snapshots/snapshots.json`, equal
`training.json`'s). The app's experiments page shows them.

""", "heads": """## What each head is worth
`head_importance.json`: the test accuracy with each of the {n} heads switched off alone (`{command}`).
Switching off head {worst} costs the most: {worst_acc:.2%} instead of {acc:.2%}.

"""},
    "ko": {"snapshots": """## 학습 과정의 스냅숏
`snapshots/epoch_NN.safetensors`: 위 학습에서 {epochs} 에포크 뒤의 가중치입니다(0은 학습을 시작하기 전의 무작위
가중치). `model.safetensors`와 같은 형식이며, 테스트 정확도는 차례로 {accs}입니다.
`python -m vit_core train --threads {threads} --stop-after {last} --out DIR`로 만들고 `DIR/snapshots/`를
여기에 복사했습니다. 같은 시드와 학습률 일정으로 돌다가 일찍 멈추므로,
같은 torch 빌드와 스레드 수에서는 처음 에포크들이 위 학습과 비트 하나까지 같습니다(`snapshots/snapshots.json`의
학습 손실이 `training.json`의 것과 같습니다). 앱의 실험 페이지에서 볼 수 있습니다.

""", "heads": """## 헤드 하나의 몫
`head_importance.json`: 헤드 {n}개를 하나씩 껐을 때의 테스트 정확도입니다(`{command}`). {worst} 헤드를 끌 때 가장
많이 떨어집니다: {acc:.2%} 대신 {worst_acc:.2%}.

"""},
}


def extras(folder: Path, lang: str) -> str:
    """The card's sections on the snapshots and the head-importance table, for those that are in `folder`."""
    out = ""
    index = folder / "snapshots" / "snapshots.json"
    if index.is_file():
        snaps = json.loads(index.read_text())["snapshots"]
        threads = json.loads(index.read_text()).get("threads", 0)
        out += EXTRAS[lang]["snapshots"].format(epochs=", ".join(str(x["epoch"]) for x in snaps), threads=threads,
                                                accs=", ".join(f"{x['test_acc']:.2%}" for x in snaps),
                                                last=max(x["epoch"] for x in snaps))
    table = folder / "head_importance.json"
    if table.is_file():
        data = json.loads(table.read_text())
        worst = min(data["heads"], key=lambda h: h["accuracy"])
        out += EXTRAS[lang]["heads"].format(n=len(data["heads"]), command=data["command"], acc=data["accuracy"],
                                            worst=f"{worst['layer']}.{worst['head']}", worst_acc=worst["accuracy"])
    return out


def on_machine(record: dict | None) -> str:
    """training.json's machine record in words (" on a 2-core AMD EPYC machine (Linux, x86_64)"), "" without one.
    A "note" written into the record by hand (what else the machine was doing) follows after a comma."""
    if not record:
        return ""
    system = [x for x in (record.get("system"), record.get("architecture")) if x and x != record.get("processor")]
    words = f" on a {record['cpus']}-core {record['processor']} machine" + (f" ({', '.join(system)})" if system else "")
    return words + (f", {record['note']}" if record.get("note") else "")


def on_machine_ko(record: dict | None) -> str:
    """The machine record in Korean (" (2코어 AMD EPYC 컴퓨터, Linux, x86_64)"), "" without one; the note after a
    semicolon, translated where NOTES_KO knows it."""
    if not record:
        return ""
    system = [x for x in (record.get("system"), record.get("architecture")) if x and x != record.get("processor")]
    words = ", ".join([f"{record['cpus']}코어 {record['processor']} 컴퓨터", *system])
    note = record.get("note")
    return f" ({words}" + (f"; {NOTES_KO.get(note, note)}" if note else "") + ")"
