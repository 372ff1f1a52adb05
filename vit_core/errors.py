"""What can go wrong when a model is asked for, one type per cause, so that a caller can say what to do about it.

    ModelError           any of the four below
    ├─ CheckpointError   there is a file or folder, but it is not a usable checkpoint (its format, a pickle, a
    │                    missing or misshaped tensor, a config.json we cannot build)
    ├─ ModelNotFound     there is no model where one was asked for (a path that does not exist, a curated name we
    │                    do not know, a curated model that is not in the cache)
    ├─ NoNetwork         a download that cannot happen now (HF_HUB_OFFLINE, no connection, the Hub refusing)
    └─ NoHead            the model has no classification head (DINO and other feature extractors), and what was
                         asked needs classes (the logit lens); kind "no_head"

Each message says why in words a user can act on. They also subclass the built-in error a caller would expect
(ValueError, LookupError, ConnectionError). Like `images.ImageError`, an error may also carry a `kind` and its
`params` (the curated models' errors do: see hub.MESSAGES), so that a UI can say the same in another language;
`kind` is "" when there is only the English message.
"""
from __future__ import annotations


class ModelError(Exception):
    """A model that cannot be had; the message says why, `kind` and `params` say it again for a translation."""

    def __init__(self, message: str, *, kind: str = "", params: dict | None = None):
        super().__init__(message)
        self.kind, self.params = kind, dict(params or {})


class CheckpointError(ModelError, ValueError):
    """A file or folder that is not a usable checkpoint."""


class ModelNotFound(ModelError, LookupError):
    """No model where one was asked for."""


class NoNetwork(ModelError, ConnectionError):
    """A download that cannot happen now."""


class NoHead(ModelError, ValueError):
    """A model without a classification head, asked for something that needs its classes."""

    def __init__(self, message: str):
        super().__init__(message, kind="no_head")
