"""Bracket input and output: read, validate, orient and order exposures; write images atomically."""

from edgemef.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "Bracket": "edgemef.io.bracket",
        "DEFAULT_MAX_PIXELS": "edgemef.io.limits",
        "ExposureInfo": "edgemef.io.exif",
        "IMAGE_EXTENSIONS": "edgemef.io.bracket",
        "LoadedImage": "edgemef.io.read",
        "SUPPORTED_FORMATS": "edgemef.io.read",
        "apply_orientation": "edgemef.io.exif",
        "atomic_write_bytes": "edgemef.io.write",
        "check_bracket_array": "edgemef.io.bracket",
        "check_output_path": "edgemef.io.write",
        "encode_image": "edgemef.io.write",
        "expand_sources": "edgemef.io.bracket",
        "images_in_folder": "edgemef.io.bracket",
        "mean_luminance": "edgemef.io.bracket",
        "natural_key": "edgemef.io.bracket",
        "order_by_exposure": "edgemef.io.bracket",
        "read_bracket": "edgemef.io.bracket",
        "read_image": "edgemef.io.read",
        "read_metadata": "edgemef.io.exif",
        "write_fused": "edgemef.io.write",
        "write_hdr": "edgemef.io.write",
        "write_image": "edgemef.io.write",
        "read_hdr": "edgemef.io.hdr",
    },
)
