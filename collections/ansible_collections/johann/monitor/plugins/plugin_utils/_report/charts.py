# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chart geometry for inline SVG, computed on the controller (the report runs no chart library)."""
from __future__ import annotations

import math

PALETTE = ("#2f6fb0", "#e08a1e", "#3a9a5b", "#c4453c", "#7d5ba6", "#8c6d46", "#d16ba5", "#5f7f8f", "#b5a33a",
           "#42a5b3")


def pie(items: list[tuple[str, int]], radius: float = 80.0) -> dict:
    """Slices of a pie: SVG path data, colour, label, value and percentage."""
    total = sum(v for _label, v in items)
    slices, angle = [], -math.pi / 2
    for index, (label, value) in enumerate(items):
        if not value:
            continue
        share = value / total
        sweep = share * 2 * math.pi
        colour = PALETTE[index % len(PALETTE)]
        if share >= 0.9999:   # a full circle cannot be drawn as one arc
            path = f"M 0 {-radius:.2f} A {radius} {radius} 0 1 1 -0.01 {-radius:.2f} Z"
        else:
            x1, y1 = radius * math.cos(angle), radius * math.sin(angle)
            x2, y2 = radius * math.cos(angle + sweep), radius * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            path = f"M 0 0 L {x1:.2f} {y1:.2f} A {radius} {radius} 0 {large} 1 {x2:.2f} {y2:.2f} Z"
        slices.append({"path": path, "colour": colour, "label": label, "value": value,
                       "percent": round(100 * share, 1)})
        angle += sweep
    return {"slices": slices, "total": total, "radius": radius}


def bars(items: list[tuple[str, int]], width: float = 320.0, bar_height: float = 22.0) -> dict:
    """Horizontal bars scaled to the largest value."""
    top = max((v for _label, v in items), default=0) or 1
    rows = []
    for index, (label, value) in enumerate(items):
        rows.append({"label": label, "value": value, "y": index * (bar_height + 6),
                     "width": round(width * value / top, 1), "colour": PALETTE[index % len(PALETTE)]})
    return {"rows": rows, "height": len(items) * (bar_height + 6), "bar_height": bar_height, "width": width}


def gauge(percent: float | None) -> dict:
    """A bar gauge: fill width and a level for colour (ok, warning, critical)."""
    if percent is None:
        return {"percent": None, "width": 0, "level": "unknown"}
    value = max(0.0, min(100.0, float(percent)))
    level = "critical" if value >= 95 else "warning" if value >= 80 else "ok"
    return {"percent": round(value, 1), "width": round(value, 1), "level": level}
