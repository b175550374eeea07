"""The input guard and the output formats, without importing any image library (the CLI builds its help
from them)."""

#: Default pixel-count guard per frame: 100 megapixels (8K is 33 MP). Raise it with ``max_pixels``.
DEFAULT_MAX_PIXELS = 100_000_000

#: Output formats by extension, and the sample types (numpy dtype names) each takes.
WRITABLE_DTYPES = {
    ".jpg": ("uint8",),
    ".jpeg": ("uint8",),
    ".png": ("uint8", "uint16"),
    ".tif": ("uint8", "uint16"),
    ".tiff": ("uint8", "uint16"),
}

#: Linear HDR files (float RGB): Radiance, OpenEXR, float TIFF.
HDR_EXTENSIONS = (".hdr", ".exr", ".tif", ".tiff")

#: Output files by the kind of fused image (a model family's ``output_kind``): display-referred 8-bit sRGB
#: images, or scene-referred linear float RGB written as HDR files, or as a tonemapped 8-bit preview.
OUTPUT_EXTENSIONS = {
    "display-srgb8": (".jpg", ".jpeg", ".png", ".tif", ".tiff"),
    "scene-linear": (*HDR_EXTENSIONS, ".jpg", ".jpeg", ".png"),
}
