"""The topic model's cost, old design beside new, on one core: comments/s and resident memory.

Run: .venv/bin/python bench/topic_model_bench.py [--n 2000]. The old design (word and character
n-grams only) is fitted here on the same training split, so both are measured in the same run on
the same machine; each figure comes from a fresh process pinned to one core, so resident memory
is that of a worker holding one model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r"""
import json, os, resource, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from pathlib import Path
from classifiers import Analyzer, dataset
from classifiers import topic
model_dir, n = Path(sys.argv[1]), int(sys.argv[2])
analyzer = Analyzer(topic.load(model_dir))
texts = [r.text for r in dataset.split(dataset.load_labeled(), topic.SEED).test][:n]
analyzer.analyze_many(texts[:50])  # warm-up: the encoder's weights load on first use
start = time.perf_counter()
for i in range(0, len(texts), 64):
    analyzer.analyze_many(texts[i:i + 64])
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"per_s": len(texts) / seconds, "rss_mb": peak_mb}))
"""


def measure(model_dir: Path, n: int) -> dict[str, float]:
    """comments/s of analyze_many in batches of 64, and peak RSS, in a fresh one-core process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, str(model_dir), str(n)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_old(folder: Path) -> None:
    """The previous design (n-grams only), fitted on the same data with the same seed."""
    selection = folder / "selection.json"
    shipped = json.loads((ROOT / "classifiers" / "data" / "model_selection.json").read_text())
    shipped["chosen"] = {**shipped["chosen"], "features": "words+chars", "c": 8.0}
    selection.write_text(json.dumps(shipped))
    code = ("import sys; from pathlib import Path; from classifiers import topic; "
            "topic.train(Path(sys.argv[1]), selection_path=Path(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", code, str(folder / "old"), str(selection)], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    new_dir = Path(os.environ.get("COMMENT_MODEL_DIR", ROOT / "models"))
    with tempfile.TemporaryDirectory() as tmp:
        print("fitting the old design (n-grams only) on the same split...", file=sys.stderr)
        build_old(Path(tmp))
        old = measure(Path(tmp) / "old", args.n)
        new = measure(new_dir, args.n)
    print(f"{'design':<44}{'comments/s (1 core)':>22}{'peak RSS MB':>14}")
    print(f"{'old: word+char n-grams, logistic regression':<44}{old['per_s']:>22.0f}{old['rss_mb']:>14.0f}")
    print(f"{'new: + all-MiniLM-L6-v2 sentence vectors':<44}{new['per_s']:>22.0f}{new['rss_mb']:>14.0f}")
    print(f"new / old speed: {new['per_s'] / old['per_s']:.2f}x   targets: >= 50 comments/s, < 400 MB")


if __name__ == "__main__":
    main()
