"""Data: datasets of brackets on disk and bracket synthesis from single images."""

from edgemef.data.datasets import (
    EXPOSURE_CHOICES,
    LAYOUTS,
    Scene,
    find_scenes,
    load_scene,
    select_exposures,
)
from edgemef.data.synthesis import (
    CameraBracketConfig,
    GammaBracketConfig,
    GammaResponse,
    SRGBResponse,
    SyntheticBracket,
    random_camera_config,
    synthesize_camera_bracket,
    synthesize_gamma_bracket,
)

__all__ = [
    "EXPOSURE_CHOICES",
    "LAYOUTS",
    "CameraBracketConfig",
    "GammaBracketConfig",
    "GammaResponse",
    "SRGBResponse",
    "Scene",
    "SyntheticBracket",
    "find_scenes",
    "load_scene",
    "random_camera_config",
    "select_exposures",
    "synthesize_camera_bracket",
    "synthesize_gamma_bracket",
]
