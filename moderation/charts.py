"""Chart geometry for server-drawn SVG: the templates only place what is computed here."""

from __future__ import annotations

from typing import Any

COLOURS = {"privacy": "#7b61c9", "cost": "#d4a017", "opportunity": "#2e8b57",
           "fairness": "#c8553d", "other": "#8a8a8a", "unclassified": "#e0893a",
           "positive": "#2e8b57", "neutral": "#b0b0b0", "negative": "#c8553d", "total": "#1d1d1f"}
WIDTH, BAR_HEIGHT, LEFT, TOP = 560, 26, 110, 30


def bar_chart(rows: list[dict[str, Any]], label: str, value: str, title: str) -> dict[str, Any]:
    """Horizontal bars of `value` per `label`, scaled to the largest."""
    largest = max((r[value] for r in rows), default=0) or 1
    span = WIDTH - LEFT - 70
    bars = [{"label": r[label], "value": r[value], "y": TOP + i * (BAR_HEIGHT + 8),
             "width": round(span * r[value] / largest, 1), "colour": COLOURS.get(r[label], "#555")}
            for i, r in enumerate(rows)]
    return {"title": title, "width": WIDTH, "height": TOP + len(rows) * (BAR_HEIGHT + 8) + 30,
            "left": LEFT, "bar_height": BAR_HEIGHT, "bars": bars, "axis_label": value}


def stacked_chart(rows: list[dict[str, Any]], parts: tuple[str, ...], title: str) -> dict[str, Any]:
    """One 100% bar per row, split into `parts` (e.g. the sentiment split per topic)."""
    span = WIDTH - LEFT - 20
    bars = []
    for i, row in enumerate(rows):
        total, x, segments = row["total"] or 1, float(LEFT), []
        for part in parts:
            width = round(span * row[part] / total, 1) if row["total"] else 0
            segments.append({"part": part, "x": x, "width": width, "value": row[part],
                             "colour": COLOURS[part]})
            x += width
        bars.append({"label": row["topic"], "y": TOP + i * (BAR_HEIGHT + 8), "segments": segments})
    return {"title": title, "width": WIDTH, "height": TOP + len(rows) * (BAR_HEIGHT + 8) + 40,
            "left": LEFT, "bar_height": BAR_HEIGHT, "bars": bars, "legend": parts}


def line_chart(rows: list[dict[str, Any]], series: tuple[str, ...], title: str) -> dict[str, Any]:
    """Lines of counts per period, one per series, with the x axis in period order."""
    height, bottom = 240, 200
    largest = max((r[s] for r in rows for s in series), default=0) or 1
    step = (WIDTH - LEFT - 20) / max(len(rows) - 1, 1)
    lines = [{"name": s, "colour": COLOURS.get(s, "#555"), "points": " ".join(
        f"{round(LEFT + i * step, 1)},{round(bottom - (bottom - TOP) * r[s] / largest, 1)}"
        for i, r in enumerate(rows))} for s in series]
    ticks = [{"x": round(LEFT + i * step, 1), "label": r["period"]}
             for i, r in enumerate(rows) if len(rows) <= 8 or i % max(len(rows) // 8, 1) == 0]
    return {"title": title, "width": WIDTH, "height": height, "left": LEFT, "top": TOP,
            "bottom": bottom, "largest": largest, "lines": lines, "ticks": ticks, "legend": series}
