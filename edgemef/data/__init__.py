"""Data: datasets of brackets on disk and bracket synthesis from single images."""

from edgemef.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "CameraBracketConfig": "edgemef.data.synthesis",
        "EXPOSURE_CHOICES": "edgemef.data.choices",
        "GammaBracketConfig": "edgemef.data.synthesis",
        "GammaResponse": "edgemef.data.synthesis",
        "LAYOUTS": "edgemef.data.choices",
        "SRGBResponse": "edgemef.data.synthesis",
        "Scene": "edgemef.data.datasets",
        "SyntheticBracket": "edgemef.data.synthesis",
        "find_scenes": "edgemef.data.datasets",
        "load_scene": "edgemef.data.datasets",
        "random_camera_config": "edgemef.data.synthesis",
        "select_exposures": "edgemef.data.datasets",
        "synthesize_camera_bracket": "edgemef.data.synthesis",
        "expose_radiance": "edgemef.data.synthesis",
        "synthesize_gamma_bracket": "edgemef.data.synthesis",
    },
)
