"""An inline SVG line chart (no JavaScript, no CDN: the CSP stays strict)."""
from __future__ import annotations

from markupsafe import Markup, escape


def svg_chart(points: list[tuple[float, float]], title: str, unit: str = "",
              width: int = 600, height: int = 120) -> Markup:
    """``points``: (unix time, value), oldest first; at most a few thousand."""
    if not points:
        return Markup('<p class="muted">No samples yet.</p>')
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1
    low, high = min(0.0, min(ys)), max(ys)
    span_x, span_y = (x1 - x0) or 1.0, (high - low) or 1.0
    pad = 4
    coords = " ".join(
        f"{pad + (x - x0) / span_x * (width - 2 * pad):.1f},"
        f"{height - pad - (y - low) / span_y * (height - 2 * pad):.1f}" for x, y in points)
    label = escape(f"{title}: last {ys[-1]:.4g} {unit}, max {high:.4g} {unit}".strip())
    return Markup(
        f'<svg class="poller-chart" role="img" aria-label="{label}" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}"><title>{label}</title>'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="none" stroke="#ccc"/>'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{coords}"/>'
        f'<text x="{pad + 2}" y="12" font-size="11">{escape(f"{high:.4g} {unit}")}</text>'
        '</svg>')
