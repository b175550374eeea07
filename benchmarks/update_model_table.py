"""Regenerate the README's "Models" table and the model card's quality tables from each family's
``info.json`` (nothing typed by hand).

    python benchmarks/update_model_table.py

One row per registered family that declares an info file: its models, paper, parameter count, quality on
the held-out SICE scenes (3 exposures, full resolution) beside Mertens (for models of linear HDR: on the
validation brackets made from radiance maps, beside Debevec), and its fastest exported artifact at
4K beside Mertens timed in the same run. The block between ``<!-- models:start -->`` and
``<!-- models:end -->`` in README.md is replaced, and in ``edgemef/weights/MODEL_CARD.md`` the block between
``<!-- quality:FAMILY:start -->`` and ``<!-- quality:FAMILY:end -->`` of every family: each measured quality
row of its ``info.json`` with Mertens on the same data. In ``docs/evaluation.md`` the block between
``<!-- comparison:start -->`` and ``<!-- comparison:end -->`` is the comparison of every fusion model and
Mertens on the test data (SICE's held-out scenes with 3 and 2 exposures, UHD, MEFB, the brackets made from
the validation radiance maps) and at 4K. The figures themselves are measured by the commands each family's
docs page gives and recorded in its ``info.json``.
"""

from __future__ import annotations

from pathlib import Path

from edgemef.models.family import ModelFamily
from edgemef.models.registry import BASELINE, default_models, list_families

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MODEL_CARD = ROOT / "edgemef" / "weights" / "MODEL_CARD.md"
EVALUATION = ROOT / "docs" / "evaluation.md"
HELD_OUT = "SICE held-out scene1+scene10"
#: the comparison's columns: (heading, dataset of the info.json rows, exposures, metrics shown)
COMPARISON = (
    ("SICE test, 3 exp.: PSNR dB / SSIM / MEF-SSIM", HELD_OUT, 3, ("psnr_db", "ssim", "mef_ssim")),
    ("SICE test, 2 exp.", HELD_OUT, 2, ("psnr_db", "ssim", "mef_ssim")),
    ("UHD (3840 px), 3 exp.", f"{HELD_OUT} at UHD (../shared/data/uhd)", 3, ("psnr_db", "ssim", "mef_ssim")),
    ("MEFB, 2 exp.: MEF-SSIM", "MEFB, 25 scenes (no reference)", 2, ("mef_ssim",)),
    ("radiance-map brackets, 3 exp.: MEF-SSIM", "radiance-map validation brackets", 3, ("mef_ssim",)),
    ("radiance-map brackets, 2 exp.", "radiance-map validation brackets", 2, ("mef_ssim",)),
)
START, END = "<!-- models:start -->", "<!-- models:end -->"


def _quality(row: dict) -> str:
    ours = f"{row['psnr_db']:.2f} / {row['ssim']:.4f} / {row['mef_ssim']:.4f}"
    theirs = f"{row['mertens_psnr_db']:.2f} / {row['mertens_ssim']:.4f} / {row['mertens_mef_ssim']:.4f}"
    return f"{ours} ({theirs})"


def _speed(rows: list[dict]) -> str:
    exported = [r for r in rows if r.get("artifact")]
    if not exported:
        return "n/m"
    best = min(exported, key=lambda r: r["total_ms"])
    ratio = best["mertens_ms"] / best["total_ms"]
    relation = f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
    return (
        f"`{Path(best['artifact']).name}`, {best['runtime']} {best['precision']}: {best['total_ms']:,.1f} ms "
        f"({best['mertens_ms']:,.1f} ms; {relation})"
    )


def family_row(family: ModelFamily, page: str) -> str:
    """The family's row of the Models table."""
    info = family.info_data
    default = default_models()[0].name
    models = ", ".join(
        f"`{spec.name}`" + (" (default)" if spec.name == default else "") for spec in family.models
    )
    paper = info["paper"]
    authors = paper["authors"].split(", ")
    cited = authors[0].split()[-1] + (" et al." if len(authors) > 1 else "")
    shipped = info["parameters"]["shipped"]
    count = shipped.get(f"{family.convertible}-3exp") or next(iter(shipped.values()), None)
    params = f"{count:,}" if count else "n/m"
    held_out: dict[int, dict] = {}  # the first held-out row of each bracket size
    for r in info["measured"]["quality"]:
        if r["dataset"] == HELD_OUT and r["model"] == family.convertible:
            held_out.setdefault(r["exposures"], r)
    hdr = info["measured"].get("hdr_quality", [])
    if hdr:  # a model of linear radiance: scored on brackets made from radiance maps, beside Debevec
        row = hdr[0]
        quality = (
            f"linear HDR, {row['dataset']}: PSNR-mu {row['psnr_mu']:.2f} / PSNR-L {row['psnr_l']:.2f} "
            f"(Debevec {row['debevec_psnr_mu']:.2f} / {row['debevec_psnr_l']:.2f})"
        )
    elif 3 in held_out:
        quality = _quality(held_out[3])
    elif 2 in held_out:  # a model of exposure pairs (CRMEF)
        quality = f"2 exposures: {_quality(held_out[2])}"
    else:
        quality = "n/m"
    return (
        f'| [{family.name}]({page}): {models} | {cited}: "{paper["title"]}" | {params} (paper: '
        f"{info['parameters']['paper']}) | {quality} | {_speed(info['measured']['speed_4k'])} |"
    )


def model_table() -> str:
    """The whole block, markers included."""
    lines = [
        START,
        "| family: models | paper | parameters | held-out SICE, 3 exposures unless marked: PSNR dB / SSIM / "
        "MEF-SSIM (Mertens) | fastest artifact at 4K (Mertens, same run) |",
        "|---|---|---|---|---|",
    ]
    for family in list_families():
        if family.info is not None:
            lines.append(family_row(family, f"docs/models/{family.name}.md"))
    lines.append(
        f'| classical: `{BASELINE}` (baseline) | Mertens, Kautz, Van Reeth: "Exposure Fusion" (OpenCV '
        "`createMergeMertens`) | none | the reference column | not exported |"
    )
    lines.append(
        '| classical-hdr: `debevec` (HDR baseline) | Debevec, Malik: "Recovering High Dynamic Range Radiance '
        'Maps from Photographs" (OpenCV `createMergeDebevec`) | none | linear HDR, scored on brackets made '
        "from radiance maps ([docs/hdr.md](docs/hdr.md)) | not exported |"
    )
    lines.append(END)
    return "\n".join(lines)


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def quality_table(family: ModelFamily) -> str:
    """The family's model-card block, markers included: every measured quality row."""
    start, end = f"<!-- quality:{family.name}:start -->", f"<!-- quality:{family.name}:end -->"
    lines = [
        start,
        "| model | data | exposures | size | PSNR dB | SSIM | MEF-SSIM | Mertens: PSNR dB / SSIM / MEF-SSIM"
        " |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if family.info_data["measured"].get("hdr_quality"):
        return hdr_quality_table(family)
    for row in family.info_data["measured"]["quality"]:
        model = row["model"] + (f", grid {row['grid']}" if "grid" in row else "")
        mertens = " / ".join(
            _number(row.get(key), digits)
            for key, digits in (("mertens_psnr_db", 2), ("mertens_ssim", 4), ("mertens_mef_ssim", 4))
        )
        lines.append(
            f"| {model} | {row['dataset']} | {row['exposures']} | {row['resolution']} | "
            f"{_number(row['psnr_db'], 2)} | {_number(row['ssim'], 4)} | {_number(row['mef_ssim'], 4)} | "
            f"{mertens} |"
        )
    lines.append(end)
    return "\n".join(lines)


def hdr_quality_table(family: ModelFamily) -> str:
    """The model-card block of a family of linear-HDR models: every measured row beside Debevec."""
    start, end = f"<!-- quality:{family.name}:start -->", f"<!-- quality:{family.name}:end -->"
    lines = [
        start,
        "| model | data | brackets | size | PSNR-mu | SSIM-mu | PSNR-L | SSIM-L | Debevec: PSNR-mu / SSIM-mu "
        "/ PSNR-L / SSIM-L |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in family.info_data["measured"]["hdr_quality"]:
        debevec = " / ".join(
            _number(row.get(f"debevec_{key}"), digits)
            for key, digits in (("psnr_mu", 2), ("ssim_mu", 4), ("psnr_l", 2), ("ssim_l", 4))
        )
        lines.append(
            f"| {row['model']} | {row['dataset']} | {row['brackets']} | {row['resolution']} | "
            f"{row['psnr_mu']:.2f} | {row['ssim_mu']:.4f} | {row['psnr_l']:.2f} | {row['ssim_l']:.4f} | "
            f"{debevec} |"
        )
    lines.append(end)
    return "\n".join(lines)


def _cells(row: dict | None, metrics: tuple[str, ...], prefix: str = "") -> str:
    if row is None:
        return "n/m"
    digits = {"psnr_db": 2, "ssim": 4, "mef_ssim": 4}
    return " / ".join(_number(row.get(prefix + metric), digits[metric]) for metric in metrics)


def _measured(rows: list[dict], model: str, dataset: str, exposures: int) -> dict | None:
    """The model's row on that data (the last one recorded; the LUT models' rows at grid 33)."""
    found = [
        r
        for r in rows
        if r["model"] == model
        and r["dataset"] == dataset
        and r["exposures"] == exposures
        and r.get("grid", 33) == 33
        and r.get("mef_ssim") is not None
    ]
    return found[-1] if found else None


def comparison_table() -> str:
    """The docs/evaluation.md block, markers included: Mertens and every fusion model on the test data."""
    start, end = "<!-- comparison:start -->", "<!-- comparison:end -->"
    header = " | ".join(heading for heading, *_ in COMPARISON)
    lines = [start, f"| model | {header} | 4K, fastest artifact |", "|---" * (len(COMPARISON) + 2) + "|"]
    mertens: dict[int, str] = {}
    rows: list[str] = []
    for family in list_families():
        if family.info is None or family.info_data["measured"].get("hdr_quality"):
            continue
        measured = family.info_data["measured"]
        for spec in family.models:
            cells = []
            for index, (_, dataset, exposures, metrics) in enumerate(COMPARISON):
                row = _measured(measured["quality"], spec.name, dataset, exposures)
                cells.append(_cells(row, metrics))
                if row is not None and index not in mertens:
                    mertens[index] = _cells(row, metrics, prefix="mertens_")
            if all(cell == "n/m" for cell in cells):
                continue
            speed = _speed(measured["speed_4k"]) if spec.name == family.convertible else "-"
            rows.append(f"| `{spec.name}` | {' | '.join(cells)} | {speed} |")
    baseline = " | ".join(mertens.get(index, "n/m") for index in range(len(COMPARISON)))
    speed = "in brackets beside each artifact (same run)"
    lines += [f"| `{BASELINE}` (OpenCV) | {baseline} | {speed} |", *rows, end]
    return "\n".join(lines)


def replace_block(text: str, block: str, where: str) -> str:
    """``text`` with the marked block that ``block`` starts and ends with replaced by it."""
    start, end = block.splitlines()[0], block.splitlines()[-1]
    if start not in text or end not in text:
        raise SystemExit(f"{where} has no {start} ... {end} block")
    head, rest = text.split(start, 1)
    return head + block + rest.split(end, 1)[1]


def main() -> None:
    README.write_text(replace_block(README.read_text(encoding="utf-8"), model_table(), "README.md"))
    card = MODEL_CARD.read_text(encoding="utf-8")
    for family in list_families():
        if family.info is not None:
            card = replace_block(card, quality_table(family), "MODEL_CARD.md")
    MODEL_CARD.write_text(card, encoding="utf-8")
    evaluation = EVALUATION.read_text(encoding="utf-8")
    evaluation = replace_block(evaluation, comparison_table(), "docs/evaluation.md")
    EVALUATION.write_text(evaluation, encoding="utf-8")
    print(
        "README.md: models block regenerated; MODEL_CARD.md: quality blocks regenerated; "
        "docs/evaluation.md: comparison block regenerated"
    )


if __name__ == "__main__":
    main()
