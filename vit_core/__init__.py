"""vit_core: the Vision Transformer and every tensor step of it, for the ViT explainer."""
from .checkpoints import LoadedModel, load_model, save_model
from .config import PreprocessConfig, ViTConfig
from .errors import CheckpointError, ModelError, ModelNotFound, NoHead, NoNetwork
from .images import ImageError, load_image, preprocess
from .model import Trace, TraceArrays, ViT, attention, explain_block

__all__ = ["CheckpointError", "ImageError", "LoadedModel", "ModelError", "ModelNotFound", "NoHead", "NoNetwork",
           "PreprocessConfig", "Trace", "TraceArrays", "ViT", "ViTConfig", "attention", "explain_block", "load_image",
           "load_model", "preprocess", "save_model"]
