"""STHDR's declaration: linear HDR from a dynamic 3-frame bracket (alignment by spatial correct modules,
two merge stages, three scales), trained on brackets made from real radiance maps."""

from pathlib import Path

from edgemef.models.family import ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="sthdr",
    summary="scale-aware two-stage HDR: a dynamic 3-frame bracket to linear radiance",
    output_kind=OutputKind.SCENE_LINEAR,
    models=(
        ModelSpec(
            name="sthdr",
            family="sthdr",
            summary="STHDR: SCM alignment, two HIN U-Net merge stages, three scales; linear HDR out",
            target="edgemef.models.sthdr.fusion:SthdrFusion",
            needs_torch=True,
            min_exposures=3,
            max_exposures=3,
            options=("weights",),
            shipped_weights=True,
        ),
    ),
    training_tasks={"sthdr": "edgemef.models.sthdr.train_task:make_task"},
    training_arguments="edgemef.models.sthdr.train_options:add_arguments",
    info=Path(__file__).with_name("info.json"),
)
