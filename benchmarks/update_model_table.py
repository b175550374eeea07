"""Regenerate the README's "Models" table from each family's ``info.json`` (nothing typed by hand).

    python benchmarks/update_model_table.py

One row per registered family that declares an info file: its models, paper, parameter count, quality on
the held-out SICE scenes (3 exposures, full resolution) beside Mertens, and its fastest exported artifact at
4K beside Mertens timed in the same run. The block between ``<!-- models:start -->`` and
``<!-- models:end -->`` in README.md is replaced; the figures themselves are measured by the commands each
family's docs page gives and recorded in its ``info.json``.
"""

from __future__ import annotations

from pathlib import Path

from edgemef.models.family import ModelFamily
from edgemef.models.registry import BASELINE, list_families

README = Path(__file__).resolve().parents[1] / "README.md"
HELD_OUT = "SICE held-out scene1+scene10"
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
    models = ", ".join(
        f"`{spec.name}`" + (" (default)" if spec.default_rank is not None else "") for spec in family.models
    )
    paper = info["paper"]
    authors = paper["authors"].split(", ")
    cited = authors[0].split()[-1] + (" et al." if len(authors) > 1 else "")
    shipped = info["parameters"]["shipped"].get(f"{family.convertible}-3exp")
    params = f"{shipped:,}" if shipped else "n/m"
    quality = next(
        (
            _quality(r)
            for r in info["measured"]["quality"]
            if r["dataset"] == HELD_OUT and r["exposures"] == 3 and r["model"] == family.convertible
        ),
        "n/m",
    )
    return (
        f'| [{family.name}]({page}): {models} | {cited}: "{paper["title"]}" | {params} (paper: '
        f"{info['parameters']['paper']}) | {quality} | {_speed(info['measured']['speed_4k'])} |"
    )


def model_table() -> str:
    """The whole block, markers included."""
    lines = [
        START,
        "| family: models | paper | parameters | held-out SICE, 3 exposures: PSNR dB / SSIM / MEF-SSIM "
        "(Mertens) | fastest artifact at 4K (Mertens, same run) |",
        "|---|---|---|---|---|",
    ]
    for family in list_families():
        if family.info is not None:
            lines.append(family_row(family, f"docs/models/{family.name}.md"))
    lines.append(
        f'| classical: `{BASELINE}` (baseline) | Mertens, Kautz, Van Reeth: "Exposure Fusion" (OpenCV '
        "`createMergeMertens`) | none | the reference column | not exported |"
    )
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    README.write_text(head + model_table() + rest.split(END, 1)[1], encoding="utf-8")
    print("README.md: models block regenerated")


if __name__ == "__main__":
    main()
