"""Render a profile report (the JSON of :mod:`edgemef.profile.schema`) as one self-contained HTML page.

Plots are inline SVG (no scripts, no network, no plotting library): latency histogram, per-stage bars,
per-operator top-k, latency against resolution. Reports measured on a device render the same way.
"""

from __future__ import annotations

from html import escape

import numpy as np

BLUE, ORANGE, GREY = "#3b6fb6", "#e08a2c", "#8a8f98"
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;
color:#1d2330}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.25rem .7rem;border-bottom:1px solid #eef;text-align:left}
th{background:#f4f6fa} .num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#667}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem} svg text{font-size:11px;fill:#1d2330}
.verdict-met{color:#18794e;font-weight:600} .verdict-missed{color:#b42318;font-weight:600}
"""


def _bars(
    rows: list[tuple[str, float, str]], unit: str = "ms", width: int = 460, label_width: int = 120
) -> str:
    """Horizontal bars: (label, value, colour)."""
    if not rows:
        return "<p class='muted'>no data</p>"
    top = max(v for _, v, _ in rows) or 1.0
    height = 22 * len(rows) + 10
    parts = [f"<svg width='{width}' height='{height}' role='img'>"]
    for i, (label, value, colour) in enumerate(rows):
        y = 5 + 22 * i
        bar = (width - label_width - 70) * value / top
        shown = escape(label if len(label) <= 42 else label[:41] + "…")
        parts.append(f"<text x='{label_width - 6}' y='{y + 14}' text-anchor='end'>{shown}</text>")
        parts.append(f"<rect x='{label_width}' y='{y + 3}' width='{bar:.1f}' height='15' fill='{colour}'/>")
        parts.append(f"<text x='{label_width + bar + 5:.1f}' y='{y + 14}'>{value:.2f} {unit}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _histogram(values: list[float], width: int = 460, height: int = 200) -> str:
    if not values:
        return "<p class='muted'>no data</p>"
    bins = min(12, max(3, len(values) // 2))
    counts, edges = np.histogram(values, bins=bins)
    left, bottom, plot_w, plot_h = 40, height - 30, width - 60, height - 50
    top = max(int(counts.max()), 1)
    parts = [f"<svg width='{width}' height='{height}' role='img'>"]
    for i, count in enumerate(counts):
        bw = plot_w / bins
        bh = plot_h * count / top
        parts.append(
            f"<rect x='{left + i * bw + 1:.1f}' y='{bottom - bh:.1f}' width='{bw - 2:.1f}' height='{bh:.1f}' "
            f"fill='{BLUE}'><title>{edges[i]:.1f}-{edges[i + 1]:.1f} ms: {count}</title></rect>"
        )
    parts.append(f"<line x1='{left}' y1='{bottom}' x2='{left + plot_w}' y2='{bottom}' stroke='#445'/>")
    parts.append(f"<text x='{left}' y='{bottom + 15}'>{edges[0]:.1f} ms</text>")
    parts.append(f"<text x='{left + plot_w}' y='{bottom + 15}' text-anchor='end'>{edges[-1]:.1f} ms</text>")
    parts.append(f"<text x='{left - 5}' y='{bottom - plot_h + 5}' text-anchor='end'>{top}</text>")
    parts.append(f"<text x='{left - 5}' y='{bottom}' text-anchor='end'>0</text></svg>")
    return "".join(parts)


def _line(points: list[tuple[float, float, str]], width: int = 460, height: int = 220) -> str:
    """End-to-end latency (y) against megapixels (x)."""
    if len(points) < 2:
        return "<p class='muted'>not measured ('edgemef profile --sweep' draws it)</p>"
    left, bottom, plot_w, plot_h = 50, height - 35, width - 140, height - 60
    xmax = max(p[0] for p in points) or 1.0
    ymax = max(p[1] for p in points) or 1.0
    xy = [(left + plot_w * x / xmax, bottom - plot_h * y / ymax, x, y, label) for x, y, label in points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py, *_) in enumerate(xy))
    parts = [
        f"<svg width='{width}' height='{height}' role='img'>",
        f"<path d='{path}' fill='none' stroke='{BLUE}'/>",
    ]
    for px, py, _, y, label in xy:
        parts.append(f"<circle cx='{px:.1f}' cy='{py:.1f}' r='4' fill='{ORANGE}'/>")
        parts.append(
            f"<text x='{px:.1f}' y='{py - 8:.1f}' text-anchor='middle'>{escape(label)}: {y:.0f} ms</text>"
        )
    parts.append(f"<line x1='{left}' y1='{bottom}' x2='{left + plot_w}' y2='{bottom}' stroke='#445'/>")
    parts.append(
        f"<text x='{left + plot_w}' y='{bottom + 18}' text-anchor='end'>{xmax:.1f} megapixels</text>"
    )
    parts.append(f"<text x='{left}' y='{bottom + 18}'>0</text></svg>")
    return "".join(parts)


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def render(report: dict) -> str:
    """The HTML page of a report."""
    art, machine, stages, e2e = report["artifact"], report["machine"], report["stages"], report["end_to_end"]
    width, height = report["resolution"]
    with_capture = report.get("end_to_end_with_capture")  # device runners that capture (rpi/)
    totals = [("end to end", e2e)]
    headline = f"End to end {e2e['median_ms']:.1f} ms"
    if with_capture:
        totals = [("end to end, capture excluded", e2e), ("with capture", with_capture)]
        headline += f" with the capture excluded ({with_capture['median_ms']:.1f} ms with it)"
    producer = f" Measured by <code>{escape(report['producer'])}</code>." if report.get("producer") else ""
    title = f"{art['model']} · {art['backend']} {art['precision']} · {art['settings']} · {width}x{height}"
    stage_rows = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(f"<td class='num'>{s[key]:.2f}</td>" for key in ("median_ms", "p90_ms", "min_ms", "max_ms"))
        + "</tr>"
        for name, s in [*stages.items(), *totals]
    )
    ops = report["operators"]
    if ops.get("available"):
        op_rows = [
            (
                str(o["name"]),
                float(o["median_ms"]),
                BLUE if o["delegated"] else ORANGE,
            )
            for o in ops["top"]
        ]
        op_html = (
            f"<p class='muted'>{escape(ops['source'])}. One inference: {ops['inference_ms']:.2f} ms in the "
            "runtime; "
            f"its top-level events add up to {ops['total_ms']:.2f} ms. Blue: delegated (XNNPACK); orange: "
            f"portable or CPU-provider kernels.</p>{_bars(op_rows, width=760, label_width=300)}"
        )
    else:
        op_html = f"<p class='muted'>Not available: {escape(ops.get('why', ''))}</p>"
    delegation = art.get("delegation") or {}
    delegation_text = (
        f"{delegation.get('delegated_share', 0) * 100:.0f} % of operators in {delegation.get('delegate')} "
        f"({delegation.get('delegated_ops')} delegated, {delegation.get('portable_ops')} portable: "
        + (
            ", ".join(f"{k} x{v}" for k, v in (delegation.get("left_on_portable_kernels") or {}).items())
            or "none"
        )
        + ")"
        if delegation
        else "n/a for this runtime"
    )
    memory = report["memory"]
    claims = "".join(
        f"<tr><td>{escape(c['source'])}</td><td>{escape(c['claim'])}</td><td>{escape(c['device_kind'])}</td>"
        f"<td class='verdict-{c['verdict'].split(':')[0]}'>{escape(c['verdict'])}</td></tr>"
        for c in report["claims"]
    )
    sweep = [
        (
            r["resolution"][0] * r["resolution"][1] / 1e6,
            r["end_to_end_median_ms"],
            f"{r['resolution'][0]}x{r['resolution'][1]}",
        )
        for r in report.get("sweep", [])
    ]
    stage_bars = _bars([(name, float(s["median_ms"]), BLUE) for name, s in stages.items()])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>edgemef profile: {
        escape(title)
    }</title>
<style>{STYLE}</style></head><body>
<h1>edgemef profile</h1><p class="muted">{escape(title)} · {escape(report.get("created", ""))}</p>
<p><b>{headline}</b> (median of {report["runs"]} runs, p90 {e2e["p90_ms"]:.1f} ms) on a
<b>{escape(machine["kind"])}</b> machine: {escape(machine["description"])}, {report["threads"]} threads.{
        producer
    }</p>
<div class="grid"><div><h2>Latency per stage (median)</h2>{stage_bars}</div>
<div><h2>End-to-end latency, every run</h2>{_histogram(e2e["runs_ms"])}</div></div>
<h2>Stages (ms)</h2><table><tr><th>stage</th><th>median</th><th>p90</th><th>min</th><th>max</th></tr>{
        stage_rows
    }</table>
<h2>Per operator (one network call)</h2>{op_html}
<div class="grid"><div><h2>Latency against resolution</h2>{
        _line(sweep)
    }</div><div><h2>Artifact and memory</h2>
{
        _table(
            [
                ("file", art["file"]),
                ("size", f"{art['size_bytes'] / 1e6:.2f} MB"),
                ("parity vs PyTorch", f"{art.get('parity_min_psnr_db')} dB (worst held-out stack)"),
                ("delegation", delegation_text),
                ("input frames", f"{memory['input_bytes'] / 1e6:.1f} MB"),
                (
                    "peak Python/numpy memory",
                    f"{memory['peak_traced_bytes'] / 1e6:.1f} MB"
                    if memory["peak_traced_bytes"]
                    else "not traced",
                ),
                ("process max RSS", f"{memory['max_rss_bytes'] / 1e6:.0f} MB"),
            ]
        )
    }</div></div>
<h2>The papers' claims</h2><table><tr><th>source</th><th>claim</th><th>claimed on</th><th>verdict</th></tr>{
        claims
    }</table>
<p class="muted">Figures measured on a desktop are never compared with device claims. Render a device's
JSON (same schema) with <code>edgemef profile --render device.json --report out.html</code>.</p>
</body></html>
"""
