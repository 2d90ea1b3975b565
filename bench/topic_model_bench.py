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
start, cpu_start = time.perf_counter(), time.process_time()
for i in range(0, len(texts), 64):
    analyzer.analyze_many(texts[i:i + 64])
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"per_s": len(texts) / seconds, "per_cpu_s": len(texts) / cpu, "rss_mb": peak_mb}))
"""


def measure(model_dir: Path, n: int) -> dict[str, float]:
    """comments/s of analyze_many in batches of 64, and peak RSS, in a fresh one-core process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, str(model_dir), str(n)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def held_out_real(model_dir: Path) -> float:
    """Macro-F1 on the held-out real comments, from the model's own card."""
    return json.loads((model_dir / "model_card.json").read_text())["held_out"]["real"]["macro_f1"]


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
        old = measure(Path(tmp) / "old", args.n) | {"real": held_out_real(Path(tmp) / "old")}
        new = measure(new_dir, args.n) | {"real": held_out_real(new_dir)}
    print(f"{'design':<44}{'comments/s':>12}{'per CPU-s':>11}{'peak RSS MB':>13}{'held-out real F1':>18}")
    for name, row in (("old: word+char n-grams, logistic regression", old),
                      ("new: + all-MiniLM-L6-v2 sentence vectors", new)):
        print(f"{name:<44}{row['per_s']:>12.0f}{row['per_cpu_s']:>11.0f}{row['rss_mb']:>13.0f}"
              f"{row['real']:>18.3f}")
    print(f"new / old speed: {new['per_cpu_s'] / old['per_cpu_s']:.2f}x (per CPU-second; wall-clock figures "
          f"fall with the machine's load)   targets: >= 50 comments/s on one core, < 400 MB")


if __name__ == "__main__":
    main()
