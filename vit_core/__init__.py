"""vit_core: the Vision Transformer and every tensor step of it, for the ViT explainer."""
from .checkpoints import CheckpointError, load_model, save_model
from .config import PreprocessConfig, ViTConfig
from .hub import ModelUnavailable
from .images import ImageError, load_image, preprocess
from .model import ViT, Trace, attention, explain_block

__all__ = ["CheckpointError", "ImageError", "ModelUnavailable", "PreprocessConfig", "Trace", "ViT", "ViTConfig",
           "attention", "explain_block", "load_image", "load_model", "preprocess", "save_model"]
