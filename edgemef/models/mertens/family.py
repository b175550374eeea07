"""The classical family's declaration: OpenCV's Mertens fusion, the baseline every learned model is
measured against. Nothing to export or train."""

from edgemef.models.family import ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="classical",
    summary="Mertens-Kautz-Van Reeth exposure fusion (OpenCV), the baseline",
    output_kind=OutputKind.DISPLAY,
    models=(
        ModelSpec(
            name="mertens",
            family="classical",
            summary="Mertens-Kautz-Van Reeth exposure fusion (OpenCV createMergeMertens), the classical "
            "baseline",
            target="edgemef.models.mertens.fusion:MertensFusion",
            default_rank=100,
        ),
    ),
)
