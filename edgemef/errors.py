"""The one exception hierarchy of edgemef.

Every error a user can cause (bad files, wrong arguments, wrong model files) is an
:class:`EdgemefError`. The CLI turns these into one line on stderr and a non-zero exit
code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class EdgemefError(Exception):
    """Base class of every user-facing edgemef error."""

    exit_code = 2


class BracketError(EdgemefError):
    """A set of exposures cannot be fused as given (too few frames, sizes differ, ...)."""


class ImageReadError(EdgemefError):
    """A file could not be read as an image (missing, not an image, corrupt or truncated)."""


class ImageTooLargeError(EdgemefError):
    """An image exceeds the pixel-count guard; pass a larger ``max_pixels`` to allow it."""


class ImageWriteError(EdgemefError):
    """An output image could not be written (bad extension, unwritable folder, ...)."""


class DatasetError(EdgemefError):
    """A dataset folder does not have the expected layout."""


class UnknownModelError(EdgemefError):
    """A model name is not in the registry."""


class ArtifactError(EdgemefError):
    """An exported model or its contract is missing, corrupt, of another format version or mismatched."""


class ConversionError(EdgemefError):
    """A conversion failed: the exporter refused the model, or the artifact failed its parity gate."""


class CameraError(EdgemefError):
    """A camera is missing, refuses a setting a bracket needs, or does not deliver the requested exposure."""


class SearchError(EdgemefError):
    """An architecture search cannot go on: a latency table or checkpoint of other settings."""
