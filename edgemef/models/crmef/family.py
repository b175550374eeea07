"""CRMEF's declaration: a searched compact network (scene relighting, deformable alignment, detail
repletion), trained from a genotype; shipped 2-exposure weights; exported as one tile graph driven by a
torch-free tiler."""

from pathlib import Path

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="crmef",
    summary="searched compact fusion of an exposure pair (relighting, deformable alignment, repletion)",
    output_kind=OutputKind.DISPLAY,
    models=(
        ModelSpec(
            name="crmef",
            family="crmef",
            summary="CRMEF: a latency-searched network fusing the darkest and brightest frames",
            target="edgemef.models.crmef.fusion:crmef",
            needs_torch=True,
            options=("weights",),
            shipped_weights=True,
        ),
        ModelSpec(
            name="crmef-misaligned",
            family="crmef",
            summary="CRMEF with deformable alignment, for hand-held (misaligned) pairs",
            target="edgemef.models.crmef.fusion:crmef_misaligned",
            needs_torch=True,
            options=("weights",),
            shipped_weights=True,
        ),
    ),
    runtime="edgemef.models.crmef.runtime:CrmefArtifactFusion",
    exporter="edgemef.models.crmef.export:EXPORTER",
    convertible="crmef",
    convert_options=(
        FamilyOption(
            "tile",
            256,
            "side of the exported tile graph (default 256; tiles overlap by twice the receptive field "
            "radius plus 16)",
            "T",
            quick=128,
        ),
    ),
    # LiteRT's int8 tile graph takes twice the fp32 one's time on a CPU (docs/models/crmef.md): fp32 there
    default_precision={"litert": "fp32"},
    profile_stages=("network", "tiling"),
    training_tasks={"crmef": "edgemef.models.crmef.train_task:make_task"},
    training_arguments="edgemef.models.crmef.train_options:add_arguments",
    searches={"crmef": "edgemef.models.crmef.search_options"},
    info=Path(__file__).with_name("info.json"),
)
