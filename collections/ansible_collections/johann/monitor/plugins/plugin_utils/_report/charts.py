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


def _coordinate(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def sparkline(values: list[float | None], width: float = 120.0, height: float = 28.0,
              lo: float | None = None, hi: float | None = None) -> dict:
    """A small line over a series (oldest first): SVG polyline points per unbroken run of values.

    ``None`` (no reading that run) breaks the line: each unbroken run is one
    segment (``points`` for a polyline, ``count``); a segment of one value
    draws no line, so it is also listed in ``dots``. The scale is ``lo``..``hi`` when given (values outside are
    clamped), else the series' own minimum and maximum; a flat series is drawn
    across the middle. ``last`` is the newest known value, ``last_x``/``last_y``
    where it is drawn, ``current`` whether it is this run's (the last) value.
    """
    pad = 2.0   # keeps the stroke and the end marker inside the box
    known = [float(v) for v in values if v is not None]
    result = {"width": width, "height": height, "count": len(values), "known": len(known), "segments": [],
              "dots": [], "min": None, "max": None, "last": None, "last_x": None, "last_y": None,
              "current": bool(values) and values[-1] is not None}
    if not known:
        return result
    low = min(known) if lo is None else float(lo)
    high = max(known) if hi is None else float(hi)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    step = inner_w / (len(values) - 1) if len(values) > 1 else 0.0

    def x_of(index: int) -> float:
        return pad + index * step if len(values) > 1 else width / 2

    def y_of(value: float) -> float:
        if high <= low:
            return height / 2
        share = (min(high, max(low, value)) - low) / (high - low)
        return pad + inner_h * (1 - share)

    segment: list[tuple[float, float]] = []
    for index, value in enumerate([*values, None]):   # the sentinel closes the last segment
        if value is not None:
            segment.append((x_of(index), y_of(float(value))))
            result["last"], result["last_x"], result["last_y"] = float(value), *segment[-1]
            continue
        if segment:
            result["segments"].append({"points": " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in segment),
                                       "count": len(segment)})
            if len(segment) == 1:
                result["dots"].append({"x": _coordinate(segment[0][0]), "y": _coordinate(segment[0][1])})
            segment = []
    result["min"], result["max"] = min(known), max(known)
    result["last_x"], result["last_y"] = _coordinate(result["last_x"]), _coordinate(result["last_y"])
    return result


def availability_bars(runs: list[dict], height: float = 90.0, slot: float = 36.0, max_width: float = 720.0) -> dict:
    """One vertical bar per run (oldest first): the percentage of devices that answered.

    ``runs`` as fleet_history gives them. Bars get narrower when there are many
    runs, so the chart never grows past ``max_width``; a run without devices
    has no bar (its availability is unknown).
    """
    slot = min(slot, max_width / len(runs)) if runs else slot
    gap = max(1.0, round(slot * 0.2, 1))
    bars_out = []
    for index, run in enumerate(runs):
        percent = run.get("availability")
        bar_h = 0.0 if percent is None else round(height * max(0.0, min(100.0, percent)) / 100, 1)
        level = ("unknown" if percent is None else "ok" if percent >= 99.95 else "warning" if percent >= 90
                 else "critical")
        bars_out.append({"x": round(index * slot + gap / 2, 1), "y": round(height - bar_h, 1),
                         "width": round(slot - gap, 1), "height": bar_h, "percent": percent, "level": level,
                         "time": run.get("time"), "answered": run.get("answered"), "total": run.get("total"),
                         "current": bool(run.get("current"))})
    return {"bars": bars_out, "width": round(slot * len(runs), 1), "height": height, "slot": slot}
