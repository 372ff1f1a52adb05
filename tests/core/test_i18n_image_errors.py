"""Every way vit_core can refuse a picture has a message in both catalogs, with the same placeholders."""
import string

from app.i18n import catalog
from vit_core.images import MESSAGES


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_refusal_is_translated():
    for kind, english in MESSAGES.items():
        assert catalog("en")[f"image_errors.{kind}"] == english
        assert fields(catalog("ko")[f"image_errors.{kind}"]) == fields(english), kind
    assert {k for k in catalog("en") if k.startswith("image_errors.")} == {f"image_errors.{k}" for k in MESSAGES}
