"""Named frame sizes (``720p`` ... ``8k``) for ``edgemef bench`` and ``edgemef profile`` (imports nothing)."""

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160), "8k": (7680, 4320)}
