"""LUT-distill's declaration (Su & Zheng): a student that regresses fusion weights and a 3D LUT of editable
size from 128x128 thumbnails; the LUT is applied at full resolution outside the network."""

from pathlib import Path

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

TASKS = "edgemef.models.lut_distill.train_tasks:make_task"
#: the LUT size baked into an artifact (families built on the student take it too)
GRID_OPTION = FamilyOption("grid", 33, "LUT size baked into the artifact (8..128; default 33)", "S", quick=17)

FAMILY = ModelFamily(
    name="lut-distill",
    summary="distilled 3D LUT fusion: per-frame weights + one LUT from thumbnails, applied at full size",
    output_kind=OutputKind.DISPLAY,
    models=(
        ModelSpec(
            name="lut-student",
            family="lut-distill",
            summary="LUT-distill student: IW fusion weights + an implicit-network 3D LUT of any size "
            "(--grid)",
            target="edgemef.models.lut_distill.fusion:lut_student",
            needs_torch=True,
            options=("grid", "weights"),
            shipped_weights=True,
            default_rank=10,
        ),
        ModelSpec(
            name="lut-teacher",
            family="lut-distill",
            summary="LUT-distill teacher: basis LUTs refined by an implicit network, mixed by a U-Net",
            target="edgemef.models.lut_distill.fusion:lut_teacher",
            needs_torch=True,
            options=("grid", "weights"),
            shipped_weights=True,
        ),
    ),
    runtime="edgemef.models.lut_distill.runtime:LutArtifactFusion",
    exporter="edgemef.models.lut_distill.export:EXPORTER",
    convertible="lut-student",
    convert_options=(GRID_OPTION,),
    profile_stages=("thumbnails", "predictor", "apply"),
    training_tasks={"lut-teacher": TASKS, "lut-student": TASKS},
    training_arguments="edgemef.models.lut_distill.train_options:add_arguments",
    info=Path(__file__).with_name("info.json"),
)
