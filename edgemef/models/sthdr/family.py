"""STHDR's declaration: linear HDR from a dynamic 3-frame bracket (alignment by spatial correct modules,
two merge stages, three scales), trained on brackets made from real radiance maps; exported as one tile graph
with linear HDR out, driven by a torch-free tiler."""

from pathlib import Path

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

#: fp32 wherever the runtime would default to int8 (int8 is refused, below)
DEFAULT_PRECISION = {"executorch": "fp32", "litert": "fp32"}
#: measured on 64-px tile graphs (docs/models/sthdr.md#export)
REFUSED_PRECISIONS = {
    "int8": "STHDR's int8 graphs do not hold the parity gate (ONNX Runtime: 20.9 dB PSNR-mu against 32; its "
    "instance normalisation, global-context softmax and sigmoid output need float) or do not build (LiteRT: "
    "a transpose's quantization scales conflict; ExecuTorch: the program does not load); use fp32 (fp16 on "
    "iOS)",
}

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
    runtime="edgemef.models.sthdr.runtime:SthdrArtifactFusion",
    exporter="edgemef.models.sthdr.export:EXPORTER",
    convertible="sthdr",
    convert_options=(
        FamilyOption(
            "tile",
            512,
            "side of the exported tile graph, a multiple of 16 (default 512, the paper's timing size; tiles "
            "overlap by a quarter of it)",
            "T",
            quick=64,
        ),
    ),
    default_precision=DEFAULT_PRECISION,
    refused_precisions=REFUSED_PRECISIONS,
    profile_stages=("network", "tiling"),
    training_tasks={"sthdr": "edgemef.models.sthdr.train_task:make_task"},
    training_arguments="edgemef.models.sthdr.train_options:add_arguments",
    info=Path(__file__).with_name("info.json"),
)
