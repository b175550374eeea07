"""Dataset layouts and exposure selections by name (imports nothing: the CLI builds its choices from them)."""

LAYOUTS = ("auto", "sice", "mefb", "folder")
#: Which exposures of a scene to fuse: darkest+brightest, darkest+middle+brightest, or every frame.
EXPOSURE_CHOICES = ("2", "3", "all")
