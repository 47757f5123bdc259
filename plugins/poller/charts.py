"""An inline SVG line chart (no JavaScript, no CDN: the CSP stays strict), with the value
axis in the metric's unit (SI prefixes: 70 Mbit/s, not 7e+07) and the time span below."""
from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def unit_of(metric: str) -> str:
    """The unit a built-in metric is stored in; template OIDs carry their own."""
    if metric == "icmp.rtt":
        return "ms"
    if metric == "icmp.loss":
        return "%"
    if metric.startswith("if.") and metric.endswith((".in", ".out")):
        return "bit/s"
    return ""


def human(value: float, unit: str = "") -> str:
    """``70000000, "bit/s"`` -> ``"70 Mbit/s"``; small and unit-less values plainly."""
    if unit in ("bit/s", "B/s", "bps", "b"):
        for size, prefix in PREFIXES:
            if abs(value) >= size:
                return f"{value / size:.3g} {prefix}{unit}"
    text = f"{value:.3g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %H:%M")


def svg_chart(points: list[tuple[float, float]], title: str, unit: str = "",
              width: int = 600, height: int = 150) -> Markup:
    """``points``: (unix time, value), oldest first; at most a few thousand."""
    if not points:
        return Markup('<p class="muted">No samples yet.</p>')
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    low, high = min(0.0, min(ys)), max(ys)
    span_x, span_y = (x1 - x0) or 1.0, (high - low) or 1.0
    left, right, top, bottom = 4, 4, 16, 18
    plot_w, plot_h = width - left - right, height - top - bottom
    coords = " ".join(
        f"{left + (x - x0) / span_x * plot_w:.1f},"
        f"{top + plot_h - (y - low) / span_y * plot_h:.1f}" for x, y in points)
    label = escape(f"{title}: last {human(ys[-1], unit)}, max {human(high, unit)}")
    base_y = top + plot_h
    return Markup(
        f'<svg class="poller-chart" role="img" aria-label="{label}" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}"><title>{label}</title>'
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#d5dae1"/>'
        f'<line x1="{left}" y1="{top + plot_h / 2:.1f}" x2="{left + plot_w}" '
        f'y2="{top + plot_h / 2:.1f}" stroke="#eef1f5"/>'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{coords}"/>'
        f'<text x="{left + 2}" y="12" font-size="11">max {escape(human(high, unit))}</text>'
        f'<text x="{width - right}" y="12" font-size="11" text-anchor="end">last '
        f'{escape(human(ys[-1], unit))}</text>'
        f'<text x="{left + 2}" y="{base_y - 3}" font-size="10">{escape(human(low, unit))}'
        f'</text>'
        f'<text x="{left}" y="{height - 4}" font-size="10">{escape(_when(x0))}</text>'
        f'<text x="{width - right}" y="{height - 4}" font-size="10" text-anchor="end">'
        f'{escape(_when(x1))} UTC</text></svg>')
