"""Draw the synthesized CloudWatch dashboards' widget grids as one SVG (no dependencies).

    python docs/render_dashboards.py [cdk.out/acme-ml-dev-observability.template.json] [docs/observability-dashboards.svg]
    python docs/render_dashboards.py cdk.out/acme-ml-dev-observability.template.json docs/training-dashboards.svg \
        acme-ml-dev-pipeline-llm-finetune acme-ml-dev-llm-pretrain-cluster

Reads the observability stack's template (``make synth`` writes it) and, next to it, the inference
shards' (the endpoints' dashboards), lays every widget out at the
position CloudWatch gives it (24-column grid) and writes an SVG: title, kind and the metric labels
of each widget, with a deterministic placeholder line per metric. Default dashboards: the first
endpoint's, the inference-components endpoint's and the platform overview.
"""

from __future__ import annotations

import hashlib
import json
import sys
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = REPO / "cdk.out" / "acme-ml-dev-observability.template.json"
DEFAULT_OUTPUT = REPO / "docs" / "observability-dashboards.svg"
PANELS = ("acme-ml-dev-chat-llm", "acme-ml-dev-llm-hosting", "acme-ml-dev-overview")
COL, ROW, PAD, GAP, TITLE = 21, 19, 6, 28, 34
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _render(part) -> str:
    if isinstance(part, str):
        return part
    if "Fn::GetAtt" in part:
        return part["Fn::GetAtt"][0]
    if "Fn::GetStackOutput" in part:
        return part["Fn::GetStackOutput"]["OutputName"]
    return next(iter(part.values())) if isinstance(part, dict) else str(part)


def alarm_names(template: dict) -> dict[str, str]:
    """Logical id (as rendered in alarm widgets) -> alarm name; other stacks' alarms keep their output name."""
    return {k: r["Properties"]["AlarmName"] for k, r in template["Resources"].items()
            if r["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")}


def dashboards(template: dict) -> dict[str, dict]:
    out = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Dashboard":
            continue
        body = resource["Properties"]["DashboardBody"]
        text = body if isinstance(body, str) else "".join(_render(p) for p in body["Fn::Join"][1])
        out[resource["Properties"]["DashboardName"]] = json.loads(text)
    return out


def _labels(widget: dict) -> list[str]:
    labels = []
    for m in widget["properties"].get("metrics", []):
        options = m[-1] if isinstance(m[-1], dict) else {}
        if options.get("visible") is False:
            continue
        label = options.get("label") or (m[1] if len(m) > 1 and isinstance(m[1], str) else "expression")
        # A GROUP BY query's dynamic label: one series per host or job.
        labels.append("one line per host / job" if label == "${LABEL}" else label)
    return labels


def _line(seed: str, x: float, y: float, w: float, h: float) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    n = 24
    points = []
    for i in range(n):
        v = 0.25 + 0.6 * (digest[i % len(digest)] / 255) * (0.6 + 0.4 * ((i * 7) % 5) / 4)
        points.append(f"{x + w * i / (n - 1):.1f},{y + h * (1 - v):.1f}")
    return " ".join(points)


def panel(name: str, body: dict, ox: float, oy: float, names: dict[str, str]) -> tuple[list[str], float]:
    """SVG elements of one dashboard at (ox, oy); returns them and the panel's height."""
    widgets = body["widgets"]
    rows = max((w["y"] + w["height"] for w in widgets), default=1)
    width, height = 24 * COL, rows * ROW
    parts = [
        f'<text x="{ox}" y="{oy + 18}" class="dash">{escape(name)} ({len(widgets)} widgets)</text>',
        f'<rect x="{ox}" y="{oy + TITLE - 6}" width="{width}" height="{height + 6}" class="board"/>',
    ]
    top = oy + TITLE
    for w in widgets:
        x, y = ox + w["x"] * COL + 2, top + w["y"] * ROW + 2
        ww, hh = w["width"] * COL - 4, w["height"] * ROW - 4
        kind = w["type"]
        props = w["properties"]
        parts.append(f'<rect x="{x}" y="{y}" width="{ww}" height="{hh}" rx="3" class="w {kind}"/>')
        if kind == "text":
            first = props.get("markdown", "").splitlines()[0].replace("**", "")
            parts.append(f'<text x="{x + PAD}" y="{y + 16}" class="md">{escape(first[:140])}</text>')
            continue
        title = props.get("title", kind)
        max_chars = int(ww / 6.2)
        parts.append(f'<text x="{x + PAD}" y="{y + 14}" class="t">{escape(title[:max_chars])}</text>')
        if kind == "alarm":
            alarms = props.get("alarms", [])
            parts.append(f'<text x="{x + PAD}" y="{y + 28}" class="l">{len(alarms)} alarms, latest state change first</text>')
            per_row = max(1, int(ww // 170))
            for i, arn in enumerate(alarms):
                cx, cy = x + PAD + (i % per_row) * 170, y + 42 + (i // per_row) * 13
                if cy > y + hh - 4:
                    break
                label = names.get(arn, arn).removeprefix("acme-ml-dev-")
                parts.append(f'<rect x="{cx}" y="{cy - 8}" width="8" height="8" class="ok"/>'
                             f'<text x="{cx + 11}" y="{cy}" class="a">{escape(label[:30])}</text>')
            continue
        if kind == "log":
            parts.append(f'<text x="{x + PAD}" y="{y + 30}" class="l">Logs Insights: {escape(props.get("query", "")[-60:])}</text>')
            continue
        labels = _labels(w)
        plot_y, plot_h = y + 20, hh - 26 - 11 * min(len(labels), 3)
        for i, label in enumerate(labels[:6]):
            color = COLORS[i % len(COLORS)]
            if plot_h > 12:
                parts.append(f'<polyline points="{_line(title + label, x + PAD, plot_y, ww - 2 * PAD, plot_h)}" '
                             f'stroke="{color}" class="p"/>')
        for i, label in enumerate(labels[:3]):
            ly = y + hh - 6 - 11 * (min(len(labels), 3) - 1 - i)
            more = f"  (+{len(labels) - 3})" if i == 2 and len(labels) > 3 else ""
            parts.append(f'<rect x="{x + PAD}" y="{ly - 7}" width="7" height="7" fill="{COLORS[i % len(COLORS)]}"/>'
                         f'<text x="{x + PAD + 10}" y="{ly}" class="l">{escape((label + more)[: max_chars])}</text>')
    return parts, TITLE + height


def render(template_path: Path, output: Path, names: tuple[str, ...] = PANELS) -> Path:
    template = json.loads(template_path.read_text())
    # Each endpoint's dashboard lives in its inference shard (<prefix>-inference*), next to this template.
    for shard in sorted(template_path.parent.glob(template_path.name.replace("-observability.", "-inference*."))):
        if shard != template_path:
            template["Resources"].update(json.loads(shard.read_text())["Resources"])
    boards, names_by_id = dashboards(template), alarm_names(template)
    chosen = [n for n in names if n in boards] or list(boards)[:3]
    elements, x, height = [], GAP, 0.0
    for name in chosen:
        parts, h = panel(name, boards[name], x, GAP, names_by_id)
        elements += parts
        height = max(height, h)
        x += 24 * COL + GAP
    style = (
        "text{font-family:Helvetica,Arial,sans-serif}"
        ".dash{font-size:15px;font-weight:bold;fill:#16191f}.board{fill:#f2f3f3;stroke:#d5dbdb}"
        ".w{fill:#fff;stroke:#d5dbdb}.w.text{fill:#fafafa}.w.alarm{fill:#fff}"
        ".t{font-size:10.5px;font-weight:bold;fill:#16191f}.l{font-size:9px;fill:#545b64}.md{font-size:10px;fill:#16191f}"
        ".p{fill:none;stroke-width:1.2;opacity:.85}.ok{fill:#1d8102}.a{font-size:8.5px;fill:#16191f}"
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{x}" height="{height + 2 * GAP}" '
        f'viewBox="0 0 {x} {height + 2 * GAP}"><style>{style}</style>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(elements) + "</svg>\n"
    )
    output.write_text(svg)
    return output


if __name__ == "__main__":
    args = sys.argv[1:]
    template = Path(args[0]) if args else DEFAULT_TEMPLATE
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    print(render(template, out, tuple(args[2:]) or PANELS))
