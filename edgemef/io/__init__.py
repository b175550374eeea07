"""Bracket input and output: read, validate, orient and order exposures; write images atomically."""

from edgemef.io.bracket import (
    IMAGE_EXTENSIONS,
    Bracket,
    check_bracket_array,
    expand_sources,
    images_in_folder,
    mean_luminance,
    natural_key,
    order_by_exposure,
    read_bracket,
)
from edgemef.io.exif import ExposureInfo, apply_orientation, read_metadata
from edgemef.io.read import DEFAULT_MAX_PIXELS, SUPPORTED_FORMATS, LoadedImage, read_image
from edgemef.io.write import atomic_write_bytes, check_output_path, encode_image, write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "Bracket",
    "ExposureInfo",
    "LoadedImage",
    "apply_orientation",
    "atomic_write_bytes",
    "check_bracket_array",
    "check_output_path",
    "encode_image",
    "expand_sources",
    "images_in_folder",
    "mean_luminance",
    "natural_key",
    "order_by_exposure",
    "read_bracket",
    "read_image",
    "read_metadata",
    "write_image",
]
