"""Rebuild topics.csv and second_read.csv from the labeling parts (run by hand after labeling).

Real rows take their text from ../shared/data/civil_comments/comments.csv by comment_id, so the
labels stay traceable to the public-domain source.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = HERE / "parts"
SOURCE = HERE.parent.parent.parent / "shared" / "data" / "civil_comments" / "comments.csv"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    texts = {r["comment_id"]: r["comment_text"] for r in read(SOURCE)}
    rows, seen = [], set()
    for part in sorted(PARTS.glob("labels_[0-9]*.csv")):
        for r in read(part):
            if r["comment_id"] not in seen:
                seen.add(r["comment_id"])
                rows.append([texts[r["comment_id"]], r["topic"], "civil_comments", r["comment_id"]])
    for part in sorted(PARTS.glob("written_*.csv")):
        for r in read(part):
            text = r["text"].strip()
            if text and r["topic"]:
                rows.append([text, r["topic"].strip(), "written", ""])
    with (HERE / "topics.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "topic", "source", "comment_id"])
        writer.writerows(rows)
    second = [r for part in sorted(PARTS.glob("labels_second_read*.csv")) for r in read(part)]
    with (HERE / "second_read.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["comment_id", "topic"])
        writer.writerows([r["comment_id"], r["topic"]] for r in second)
    print(f"{len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
