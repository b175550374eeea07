"""CRMEF's declaration: a searched compact network (scene relighting, deformable alignment, detail
repletion), trained from a genotype; shipped 2-exposure weights; no artifact runtime or exporter yet."""

from edgemef.models.family import ModelFamily, OutputKind
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
    ),
    training_tasks={"crmef": "edgemef.models.crmef.train_task:make_task"},
    training_arguments="edgemef.models.crmef.train_options:add_arguments",
)
