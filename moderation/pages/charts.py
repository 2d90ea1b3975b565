"""Chart geometry for server-drawn SVG: the templates only place what is computed here.

Every chart is drawn at most WIDTH pixels wide (scaled down, never up), and all its text has one
size, so the text reads the same in every chart on a desktop and stays legible on a phone. Topics
and sentiments have separate palettes: no topic shares a colour with "positive" or "negative".
"""

from __future__ import annotations

from typing import Any

SENTIMENT_COLOURS = {"positive": "#2e8b57", "neutral": "#a7a7a7", "negative": "#c8553d"}
TOPIC_COLOURS = {"privacy": "#6a4c93", "cost": "#b8860b", "opportunity": "#1f6fb2",
                 "fairness": "#8c564b", "other": "#4f5d66", "unclassified": "#e07b00"}
COLOURS = {**TOPIC_COLOURS, **SENTIMENT_COLOURS, "total": "#1d1d1f"}
WIDTH, BAR_HEIGHT, LEFT, TOP = 400, 24, 96, 8
FONT_SIZE = 13
CHAR_WIDTH = 7.5  # average width of a character at FONT_SIZE, to lay out legends
MAX_TICKS = 4


def legend(names: tuple[str, ...], top: int) -> tuple[list[dict[str, Any]], int]:
    """Legend entries with colour and position, wrapped into rows that fit; and the height used."""
    entries, x, y = [], 10.0, float(top)
    for name in names:
        width = 18 + len(name) * CHAR_WIDTH + 14
        if x + width > WIDTH and x > 10:
            x, y = 10.0, y + 20
        entries.append({"name": name, "colour": COLOURS.get(name, "#555"), "x": x, "y": y})
        x += width
    return entries, (y - top + 20 if names else 0)


def frame(title: str, bars: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Any]:
    """What every horizontal bar chart shares: size, title, bars and a legend."""
    legend_top = TOP + len(bars) * (BAR_HEIGHT + 8) + 8
    entries, legend_height = legend(names, legend_top)
    return {"title": title, "id": title.lower().replace(" ", "-"), "width": WIDTH,
            "height": legend_top + legend_height + 4, "left": LEFT, "font_size": FONT_SIZE,
            "bar_height": BAR_HEIGHT, "bars": bars, "legend": entries}


def bar_y(index: int) -> int:
    return TOP + index * (BAR_HEIGHT + 8)


def bar_chart(rows: list[dict[str, Any]], label: str, value: str, title: str) -> dict[str, Any]:
    """Horizontal bars of `value` per `label`, scaled to the largest, each with its number."""
    largest = max((r[value] for r in rows), default=0) or 1
    span = WIDTH - LEFT - 50
    bars = []
    for i, row in enumerate(rows):
        width = round(span * row[value] / largest, 1)
        bars.append({"label": row[label], "y": bar_y(i), "value": row[value], "end": LEFT + width,
                     "segments": [{"part": value, "x": float(LEFT), "width": width,
                                   "value": row[value], "colour": COLOURS.get(row[label], "#555")}]})
    return frame(title, bars, ())


def stacked_chart(rows: list[dict[str, Any]], parts: tuple[str, ...], title: str) -> dict[str, Any]:
    """One 100% bar per row, split into `parts` (e.g. the sentiment split per topic)."""
    span = WIDTH - LEFT - 10
    bars = []
    for i, row in enumerate(rows):
        total, x, segments = row["total"] or 1, float(LEFT), []
        for part in parts:
            width = round(span * row[part] / total, 1) if row["total"] else 0
            segments.append({"part": part, "x": x, "width": width, "value": row[part],
                             "colour": COLOURS[part]})
            x += width
        bars.append({"label": row["topic"], "y": bar_y(i), "segments": segments})
    return frame(title, bars, parts)


def tick_anchor(index: int, count: int) -> str:
    """Keep the first and last dates inside the chart."""
    if count > 1 and index == 0:
        return "start"
    if count > 1 and index == count - 1:
        return "end"
    return "middle"


def line_chart(rows: list[dict[str, Any]], series: tuple[str, ...], title: str) -> dict[str, Any]:
    """Counts per period, one line per series, with a dot on every point (one day draws dots)."""
    left, top, bottom, right = 44, 10, 190, WIDTH - 16
    largest = max((r[s] for r in rows for s in series), default=0) or 1
    step = (right - left) / max(len(rows) - 1, 1)

    def x_of(i: int) -> float:
        return round((left + right) / 2 if len(rows) == 1 else left + i * step, 1)

    def y_of(count: int) -> float:
        return round(bottom - (bottom - top) * count / largest, 1)

    lines = [{"name": s, "colour": COLOURS.get(s, "#555"),
              "points": [{"x": x_of(i), "y": y_of(r[s]), "period": r["period"], "count": r[s]}
                         for i, r in enumerate(rows)]} for s in series]
    for line in lines:
        line["path"] = " ".join(f"{p['x']},{p['y']}" for p in line["points"])
    every = max(-(-len(rows) // MAX_TICKS), 1)
    ticks = [{"x": x_of(i), "label": r["period"], "anchor": tick_anchor(i, len(rows))}
             for i, r in enumerate(rows) if i % every == 0]
    entries, legend_height = legend(series, bottom + 36)
    return {"title": title, "id": title.lower().replace(" ", "-"), "width": WIDTH,
            "height": bottom + 36 + legend_height + 4, "left": left, "right": right, "top": top,
            "bottom": bottom, "largest": largest, "lines": lines, "ticks": ticks, "legend": entries,
            "font_size": FONT_SIZE}
