"""The sentiment model: it reads comments as people do, beats raw VADER where it is measured, and says so."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from classifiers import (
    SENTIMENTS,
    ModelUnavailable,
    artifacts,
    dataset,
    embeddings,
    load_analyzer,
    sentiment_model,
)
from classifiers.sentiment import label_for, sentiment_scores
from moderation.extensions import db
from moderation.models import Comment
from tests.helpers import copy_models, demo_rows, post_comment, run_worker, write_sentiment_sample

# The seven comments raw VADER got wrong when the issue was filed (the last three are demo comments).
ISSUE_SENTENCES = [
    ("This will wipe out my job as a translator. Nobody will hire people like me anymore.", "negative"),
    ("So now Amazon gets to read my chats too?", "negative"),
    ("Only the richest labs can afford deals like this. Everyone else gets shut out. That's not fair.",
     "negative"),
    ("Oh wonderful, another billion-dollar cloud deal. Just what the world needed. Fantastic.", "negative"),
    *[(row["body"], row["sentiment"]) for row in demo_rows() if row["author"] in ("Arjun", "Jiwoo", "Mei L.")],
]
# Hard cases of the same kinds, written for these tests and never trained on.
OTHER_HARD_CASES = [
    ("Oh marvellous, the landlord has discovered yet another 'service charge'. What a treat.", "negative"),
    ("Brilliant, my flight got cancelled and the refund is a voucher. Top-notch airline.", "negative"),
    ("It's not a good plan, and calling it bold doesn't make it one.", "negative"),
    ("I wouldn't say the new website is any better. I still can't find the opening hours.", "negative"),
    ("Will my medical history end up with my employer if the clinic uses this vendor?", "negative"),
    ("How are pensioners meant to cope when the heating bill doubles this winter?", "negative"),
    ("I take your point, but I really can't agree that the fee is fair to students.", "negative"),
    ("Respectfully, I think the columnist has this the wrong way round.", "negative"),
    ("Two suppliers instead of one means a single strike can't empty the pharmacy shelves. Very sensible.",
     "positive"),
    ("What a lovely surprise to see the old cinema reopen. Thank you to the volunteers!", "positive"),
    ("When does the new timetable take effect?", "neutral"),
]
HARD_CASES = ISSUE_SENTENCES + OTHER_HARD_CASES
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def card(model_dir: Path) -> dict:
    return json.loads((model_dir / sentiment_model.CARD_NAME).read_text())


@pytest.mark.parametrize(("text", "expected"), HARD_CASES, ids=lambda v: v[:40] if len(v) > 10 else v)
def test_comment_reads_as_a_person_reads_it(analyzer, text, expected):
    result = analyzer.analyze(text)
    assert result.sentiment == expected
    assert result.sentiment_scores == sentiment_scores(text)  # VADER's raw scores are kept beside


def test_the_issue_sentences_are_the_ones_raw_vader_gets_wrong():
    assert all(label_for(sentiment_scores(text)["compound"]) != expected for text, expected in ISSUE_SENTENCES)


def content_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.casefold())) - ENGLISH_STOP_WORDS


def test_no_training_text_shares_most_of_its_words_with_a_hard_case():
    """A near copy of a test sentence in the training data would make the hard cases prove nothing."""
    for row in sentiment_model.load_labeled():
        mine = content_words(row.text)
        if len(mine) < 4:  # "Sounds great!" is no copy of anything
            continue
        for text, _ in HARD_CASES:
            assert len(mine & content_words(text)) / len(mine) <= 0.5, (row.text, text)


def test_written_examples_do_not_share_most_of_their_words_with_each_other():
    written = [set(re.findall(r"[a-z']+", r.text.lower())) for r in sentiment_model.load_labeled()
               if r.source == sentiment_model.WRITTEN]
    for a, b in itertools.combinations(written, 2):
        if min(len(a), len(b)) >= 3:
            assert len(a & b) / len(a | b) <= 0.5, (sorted(a), sorted(b))


def test_real_comments_are_the_majority_and_labels_follow_the_guidelines():
    rows = sentiment_model.load_labeled()
    real = [r for r in rows if r.is_real]
    assert len(real) >= 4000 and len(real) > len(rows) / 2
    assert {r.source for r in rows} == {"polis", "civil_comments", sentiment_model.WRITTEN}
    assert all(int(np.sign(r.intensity)) == sentiment_model.SIGN[r.sentiment] for r in rows)


def test_score_lies_in_minus_one_to_one_and_agrees_with_the_label(analyzer):
    texts = [t for t, _ in HARD_CASES] + [r["body"] for r in demo_rows()] + ["", "ok", "Taxes again?!"]
    results = analyzer.analyze_many(texts)
    assert all(-1 <= r.sentiment_score <= 1 for r in results)
    assert all(r.sentiment_score > 0 for r in results if r.sentiment == "positive")
    assert all(r.sentiment_score < 0 for r in results if r.sentiment == "negative")
    means = {label: np.mean([r.sentiment_score for r in results if r.sentiment == label]) for label in SENTIMENTS}
    assert means["positive"] > means["neutral"] > means["negative"]


def test_demo_comments_get_the_sentiment_a_person_gave_them_more_often_than_with_vader(analyzer):
    rows = demo_rows()
    results = analyzer.analyze_many([r["body"] for r in rows])
    model = sum(a.sentiment == r["sentiment"] for a, r in zip(results, rows, strict=True))
    vader = sum(label_for(a.sentiment_scores["compound"]) == r["sentiment"]
                for a, r in zip(results, rows, strict=True))
    assert model >= 5 and model > vader


def test_card_records_provenance_agreement_and_attribution(model_dir, card):
    assert card["version"] == f"{sentiment_model.MODEL_FAMILY}+{card['data']['sha256'][:10]}"
    assert card["data"]["sha256"] == dataset.data_hash(sentiment_model.SENTIMENT_CSV)
    assert card["data"]["train_rows"] + card["data"]["test_rows"] == card["data"]["rows"]
    assert card["data"]["real_share"] > 0.5
    assert card["artifact"]["sha256"] == hashlib.sha256(
        (model_dir / sentiment_model.ARTIFACT_NAME).read_bytes()).hexdigest()
    assert {"scikit-learn", "numpy", "vaderSentiment"} <= set(card["libraries"])
    assert card["attribution"] == dataset.ATTRIBUTION
    labeling = card["labeling"]
    assert labeling["polis"]["n"] >= 300 and labeling["civil_comments"]["n"] >= 150
    assert labeling["all"]["n"] == labeling["polis"]["n"] + labeling["civil_comments"]["n"]
    assert all(0 < labeling[part]["kappa"] <= 1 for part in ("polis", "civil_comments", "all"))
    assert all(0 < labeling[part]["second_reading_macro_f1"] <= 1 for part in ("polis", "civil_comments"))


def comparisons(card: dict) -> list[dict]:
    return [*card["held_out"].values(), *card["leave_one_source_out"].values()]


def test_card_figures_agree_with_their_confusion_matrices(card):
    for figures in comparisons(card):
        for side in ("model", "vader"):
            report = figures[side]
            matrix = np.array(report["confusion_matrix"]["rows_true_cols_predicted"])
            assert matrix.sum() == report["n"] == figures["n"]
            assert report["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum(), abs=1e-4)
            present = matrix.sum(axis=1) > 0
            f1 = 2 * np.diag(matrix) / np.maximum(matrix.sum(axis=0) + matrix.sum(axis=1), 1)
            assert report["macro_f1"] == pytest.approx(f1[present].mean(), abs=1e-4)
            low, high = report["macro_f1_ci95"]
            assert low <= report["macro_f1"] <= high
            low, high = report["spearman_ci95"]
            assert -1 <= low <= report["spearman"] <= high <= 1
        gain = figures["macro_f1_gain_over_vader"]
        assert gain["gain"] == pytest.approx(figures["model"]["macro_f1"] - figures["vader"]["macro_f1"], abs=2e-4)
        assert gain["ci95"][0] <= gain["gain"] <= gain["ci95"][1]


def test_held_out_figures_are_measured_on_the_real_held_out_comments(card):
    rows = sentiment_model.load_labeled()
    _, held_out = sentiment_model.split(rows, sentiment_model.SEED)
    assert card["held_out"]["real"]["n"] == sum(r.is_real for r in held_out)
    for source in ("polis", "civil_comments"):
        assert card["held_out"][source]["n"] == sum(r.source == source for r in held_out)
        loso = card["leave_one_source_out"][source]
        assert source not in loso["trained_on"] and loso["n"] == sum(r.source == source for r in rows)


def test_model_beats_raw_vader_as_the_issue_requires(card):
    """Done when: +0.10 macro-F1 on held-out real comments, and no worse on a source never trained on."""
    real = card["held_out"]["real"]
    assert real["model"]["macro_f1"] >= real["vader"]["macro_f1"] + 0.10
    assert real["macro_f1_gain_over_vader"]["ci95"][0] > 0.10
    assert real["model"]["spearman"] > real["vader"]["spearman"]
    for source in ("polis", "civil_comments"):
        unseen = card["leave_one_source_out"][source]
        assert unseen["model"]["macro_f1"] >= unseen["vader"]["macro_f1"]


def test_selection_takes_the_smallest_c_within_noise_of_the_best(card):
    selection = card["selection"]
    table = selection["candidates"]
    assert len(table) == len(sentiment_model.CANDIDATES)
    best = max(table, key=lambda row: (row["oof_macro_f1_real"], row["oof_macro_f1_all"], -row["c"]))
    chosen = [row for row in table if row["chosen"]]
    assert len(chosen) == 1 and chosen[0]["features"] == best["features"]
    assert chosen[0]["oof_macro_f1_real"] >= best["oof_macro_f1_real"] - selection["standard_error"]
    assert not any(row["within_one_standard_error"] for row in table
                   if row["features"] == best["features"] and row["c"] < chosen[0]["c"])
    assert card["hyperparameters"]["features"] == chosen[0]["features"] == selection["chosen"]["features"]
    assert card["hyperparameters"]["C"] == chosen[0]["c"]


def test_evaluate_cli_reports_the_sentiment_card_and_the_demo_agreement(model_dir, card):
    env = {**os.environ, "COMMENT_MODEL_DIR": str(model_dir)}
    result = subprocess.run([sys.executable, "-m", "classifiers", "evaluate"], capture_output=True, text=True,
                            env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("version", "hyperparameters", "held_out", "leave_one_source_out", "labeling"):
        assert report["sentiment"][key] == card[key]
    demo = report["demo"]
    assert demo["sentiment_agreement"] == sum(r["predicted_sentiment"] == r["sentiment"] for r in demo["rows"])
    assert demo["sentiment_agreement"] > demo["vader_sentiment_agreement"]
    assert all(-1 <= r["sentiment_score"] <= 1 for r in demo["rows"])


def test_same_data_and_seed_give_the_same_sentiment_model(tmp_path):
    data = write_sentiment_sample(tmp_path / "sample.csv", 30)
    first = sentiment_model.train(tmp_path / "a", data)
    second = sentiment_model.train(tmp_path / "b", data)
    assert first.card["held_out"] == second.card["held_out"]
    assert first.card["selection"] == second.card["selection"]
    texts = [t for t, _ in HARD_CASES]
    assert (first.probabilities(texts) == second.probabilities(texts)).all()


def test_the_recorded_selection_was_made_on_the_shipped_data():
    record = json.loads(sentiment_model.SELECTION_JSON.read_text(encoding="utf-8"))
    assert record["data"]["sha256"] == dataset.data_hash(sentiment_model.SENTIMENT_CSV), (
        "rerun `python -m classifiers select-sentiment` after changing the labels")
    assert record["seed"] == sentiment_model.SEED
    assert set(record["leave_one_source_out"]) == set(dataset.REAL_SOURCES)


def test_train_fits_the_recorded_choice_and_selects_again_for_other_data(tmp_path):
    data = write_sentiment_sample(tmp_path / "sample.csv", 30)
    record = sentiment_model.select(data)
    other = next(c for c in sentiment_model.CANDIDATES if c.name != record["chosen"]["name"])
    record["chosen"] = {"features": other.features, "c": other.c, "name": other.name}
    artifacts.write_record(record, tmp_path / "selection.json")
    recorded = sentiment_model.train(tmp_path / "a", data, selection_path=tmp_path / "selection.json")
    assert recorded.card["selection"]["chosen"]["name"] == other.name
    assert recorded.card["hyperparameters"] == {**recorded.card["hyperparameters"],
                                                "features": other.features, "C": other.c}

    record["data"]["sha256"] = "0" * 64  # made on other labels: not to be trusted
    artifacts.write_record(record, tmp_path / "selection.json")
    messages: list[str] = []
    reselected = sentiment_model.train(tmp_path / "b", data, selection_path=tmp_path / "selection.json",
                                       progress=messages.append)
    assert reselected.card["selection"]["chosen"]["name"] != other.name
    assert any("selecting again" in message for message in messages)


def test_select_sentiment_cli_records_the_choice_with_progress(tmp_path):
    data = write_sentiment_sample(tmp_path / "sample.csv", 30)
    out = tmp_path / "selection.json"
    result = subprocess.run([sys.executable, "-m", "classifiers", "select-sentiment", "--sentiment-data",
                             str(data), "--out", str(out)], capture_output=True, text=True, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(result.stdout)["chosen"] == record["chosen"]
    assert record["data"]["sha256"] == dataset.data_hash(data)
    assert "cross-validation fold 3/3" in result.stderr and f"wrote {out}" in result.stderr


def test_tampered_sentiment_artifact_is_refused(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    artifact = folder / sentiment_model.ARTIFACT_NAME
    content = bytearray(artifact.read_bytes())
    content[len(content) // 2] ^= 0xFF
    artifact.write_bytes(bytes(content))
    with pytest.raises(ModelUnavailable, match="sentiment-model.joblib does not match its model card"):
        load_analyzer(folder)


def test_sentiment_model_from_another_scikit_learn_is_refused(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    card_path = folder / sentiment_model.CARD_NAME
    card = json.loads(card_path.read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelUnavailable, match="scikit-learn 0.24.2.*python -m classifiers train"):
        load_analyzer(folder)


def test_missing_sentiment_model_says_how_to_rebuild(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    (folder / sentiment_model.ARTIFACT_NAME).unlink()
    with pytest.raises(ModelUnavailable, match="no sentiment-model.joblib.*python -m classifiers train"):
        load_analyzer(folder)


def count_encodings(monkeypatch) -> list[int]:
    """Record how many texts each call of the real encoder embeds."""
    calls: list[int] = []
    real = embeddings.encode

    def counted(texts, *args, **kwargs):
        calls.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embeddings, "encode", counted)
    return calls


def test_both_models_share_one_encoding_of_each_batch(analyzer, monkeypatch):
    calls = count_encodings(monkeypatch)
    texts = ["Fresh text about the tram budget, number 1.", "Fresh text about cameras, number 2."]
    first = analyzer.analyze_many(texts)
    assert calls == [2]
    assert analyzer.analyze("A third fresh text, alone.").sentiment in SENTIMENTS
    assert calls == [2, 1]
    embeddings.RECENT.forget()
    assert analyzer.analyze_many(texts) == first  # encoded afresh: the same answers
    assert calls == [2, 1, 2]


def test_remembered_vectors_cannot_be_changed_by_a_caller():
    embedder = embeddings.SentenceEmbedder()
    vectors = embedder.transform(["a comment about parking"])
    vectors[:] = 0
    assert np.abs(embedder.transform(["a comment about parking"])).sum() > 0


def test_threads_with_different_batches_get_their_own_answers(analyzer):
    batches = [[f"Comment {i} about the bus fares.", f"Another {i} on privacy."] for i in range(4)]
    expected = [analyzer.analyze_many(batch) for batch in batches]
    results: dict[int, list] = {}

    def work(i: int) -> None:
        results[i] = [analyzer.analyze_many(batches[i]) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[i] == [expected[i]] * 3 for i in range(len(batches)))


def test_worker_stores_the_models_label_and_score_beside_vaders_scores(app, client, article):
    text = "Oh marvellous, the landlord has discovered yet another 'service charge'. What a treat."
    post_comment(client, article.slug, body=text)
    run_worker(app)
    with app.app_context():
        stored = db.session.scalars(db.select(Comment).where(Comment.body == text)).one()
        expected = load_analyzer(Path(app.config["MODEL_DIR"])).analyze(text)
        assert (stored.sentiment, stored.sentiment_score) == (expected.sentiment, expected.sentiment_score)
        assert stored.sentiment == "negative" and stored.sentiment_compound > 0  # VADER misread it
        assert stored.model_version == expected.model_version and len(stored.model_version) <= 80


def test_queue_badge_shows_label_and_score_with_vaders_compound_in_its_title(app, client, article, staff):
    text = "Oh marvellous, the landlord has discovered yet another 'service charge'. What a treat."
    post_comment(client, article.slug, body=text)
    run_worker(app)
    with app.app_context():
        stored = db.session.scalars(db.select(Comment).where(Comment.body == text)).one()
        score, compound = stored.sentiment_score, stored.sentiment_compound
    staff.login()
    page = client.get("/moderation").get_data(as_text=True)
    badge = (f'class="badge sentiment-negative" title="Sentiment score from -1 to 1; VADER compound '
             f'{compound:+.2f}">negative · {score:+.2f}</span>')
    assert badge in page
