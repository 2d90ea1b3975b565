"""Chart geometry for server-drawn SVG: the templates only place what is computed here."""

from __future__ import annotations

from typing import Any

COLOURS = {"privacy": "#7b61c9", "cost": "#d4a017", "opportunity": "#2e8b57",
           "fairness": "#c8553d", "other": "#8a8a8a", "unclassified": "#e0893a",
           "positive": "#2e8b57", "neutral": "#b0b0b0", "negative": "#c8553d", "total": "#1d1d1f"}
WIDTH, BAR_HEIGHT, LEFT, TOP = 560, 26, 110, 30


def legend(names: tuple[str, ...], left: int, spacing: int) -> list[dict[str, Any]]:
    """Legend entries with their colour and x position."""
    return [{"name": n, "colour": COLOURS.get(n, "#555"), "x": left + i * spacing}
            for i, n in enumerate(names)]


def frame(title: str, bars: list[dict[str, Any]], note: str, names: tuple[str, ...]) -> dict[str, Any]:
    """What every horizontal bar chart shares: size, title, bars, a note and a legend."""
    return {"title": title, "id": title.lower().replace(" ", "-"), "width": WIDTH,
            "height": TOP + len(bars) * (BAR_HEIGHT + 8) + 40, "left": LEFT,
            "bar_height": BAR_HEIGHT, "bars": bars, "note": note,
            "legend": legend(names, LEFT, 110)}


def bar_y(index: int) -> int:
    return TOP + index * (BAR_HEIGHT + 8)


def bar_chart(rows: list[dict[str, Any]], label: str, value: str, title: str) -> dict[str, Any]:
    """Horizontal bars of `value` per `label`, scaled to the largest."""
    largest = max((r[value] for r in rows), default=0) or 1
    span = WIDTH - LEFT - 70
    bars = []
    for i, row in enumerate(rows):
        width = round(span * row[value] / largest, 1)
        bars.append({"label": row[label], "y": bar_y(i), "value": row[value], "end": LEFT + width,
                     "segments": [{"part": value, "x": float(LEFT), "width": width,
                                   "value": row[value], "colour": COLOURS.get(row[label], "#555")}]})
    return frame(title, bars, f"x: number of comments ({value}); y: {label}", ())


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
        bars.append({"label": row["topic"], "y": bar_y(i), "segments": segments})
    return frame(title, bars, "", parts)


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
    return {"title": title, "id": title.lower().replace(" ", "-"), "width": WIDTH, "height": height,
            "left": LEFT, "top": TOP, "bottom": bottom, "largest": largest, "lines": lines,
            "ticks": ticks, "legend": legend(series, LEFT, 90)}
