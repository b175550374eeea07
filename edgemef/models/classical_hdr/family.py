"""The classical HDR family's declaration: OpenCV's Debevec merge, the baseline the HDR models are measured
against. Nothing to export or train."""

from edgemef.models.family import ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="classical-hdr",
    summary="Debevec-Malik radiance merge with known exposure times (OpenCV), the HDR baseline",
    output_kind=OutputKind.SCENE_LINEAR,
    models=(
        ModelSpec(
            name="debevec",
            family="classical-hdr",
            summary="Debevec-Malik radiance merge (OpenCV createMergeDebevec) through a gamma response, "
            "the classical HDR baseline",
            target="edgemef.models.classical_hdr.merge:DebevecMerge",
        ),
    ),
)
