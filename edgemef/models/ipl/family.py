"""IPL's declaration: UHD fusion tile by tile (DAEM + DRTM blocks) with an int8 attention cache; exported
as two tile graphs (full and replay) driven by a torch-free tiler."""

from pathlib import Path

from edgemef.models.family import FamilyOption, ModelFamily, OutputKind
from edgemef.models.spec import ModelSpec

FAMILY = ModelFamily(
    name="ipl",
    summary="UHD fusion in tiles with an int8 attention cache (chunk-cache-quantize)",
    output_kind=OutputKind.DISPLAY,
    models=(
        ModelSpec(
            name="ipl",
            family="ipl",
            summary="IPL: UHD fusion tile by tile (DAEM + DRTM blocks), any size in bounded memory, "
            "int8 cache",
            target="edgemef.models.ipl.fusion:ipl",
            needs_torch=True,
            options=("weights",),
            shipped_weights=True,
        ),
    ),
    runtime="edgemef.models.ipl.runtime:IplArtifactFusion",
    exporter="edgemef.models.ipl.export:EXPORTER",
    convertible="ipl",
    convert_options=(
        FamilyOption(
            "tile",
            256,
            "side of the exported tile graphs (multiple of 32; default 256, the training crops)",
            "T",
            quick=128,
        ),
    ),
    # int8 tile graphs are no faster on a CPU (docs/models/ipl.md): fp32 by default, fp16 on CoreML
    default_precision={"executorch": "fp32", "litert": "fp32"},
    profile_stages=("network", "cache", "tiling"),
    # one bracket at a time gains nothing from a cache; benchmarks/ipl_stream.py measures it on a stream
    runtime_options={"cache": "off"},
    training_tasks={"ipl": "edgemef.models.ipl.train_task:make_task"},
    info=Path(__file__).with_name("info.json"),
)
