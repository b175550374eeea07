"""The adaptive LUT family's declaration (ours): per-exposure weight maps + one LUT from thumbnails,
applied at full resolution by the same torch-free applier as LUT-distill."""

from pathlib import Path

from edgemef.models.family import ModelFamily, OutputKind
from edgemef.models.lut_distill.family import GRID_OPTION
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="lut-adaptive",
    summary="spatially adaptive LUT fusion: 16x16 weight maps per frame + one LUT from thumbnails, "
    "applied at full size",
    output_kind=OutputKind.DISPLAY,
    models=(
        ModelSpec(
            name="lut-adaptive",
            family="lut-adaptive",
            summary="LUT-distill's student with per-exposure weight maps (16x16, bilinear) instead of one "
            "weight per exposure (--grid)",
            target="edgemef.models.lut_adaptive.fusion:lut_adaptive",
            needs_torch=True,
            options=("grid", "weights"),
            shipped_weights=True,
            default_rank=5,
        ),
    ),
    runtime="edgemef.models.lut_distill.runtime:LutArtifactFusion",
    exporter="edgemef.models.lut_adaptive.export:EXPORTER",
    convertible="lut-adaptive",
    convert_options=(GRID_OPTION,),
    profile_stages=("thumbnails", "predictor", "apply"),
    training_tasks={"lut-adaptive": "edgemef.models.lut_adaptive.train_task:make_task"},
    training_arguments="edgemef.models.lut_adaptive.train_options:add_arguments",
    info=Path(__file__).with_name("info.json"),
    builds_on=("lut-distill",),
)
