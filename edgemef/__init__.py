"""edgemef: multi-exposure image fusion from PyTorch to phones and a Raspberry Pi.

Conventions used across the package (see docs/architecture.md, "Conventions"):

* Pixel data at every public boundary is ``uint8`` RGB, ``H x W x 3`` (numpy).
* A bracket is ``N x H x W x 3`` uint8, ordered darkest to brightest; the order is decided
  in one place, :func:`edgemef.io.order_by_exposure`.
* Every user-facing error is an :class:`edgemef.errors.EdgemefError`.
"""

__version__ = "0.1.0"
