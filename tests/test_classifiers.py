"""The classifiers package on its own: the real model trained from the shipped data."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest
import sklearn
from click.testing import CliRunner
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from classifiers import TOPICS, Analysis, ModelUnavailable, cli, dataset, evaluation, load_analyzer, selection
from classifiers import topic as topic_model
from classifiers.sentiment import label_for
from classifiers.sentiment_model import ARTIFACT_NAME as SENTIMENT_ARTIFACT
from classifiers.sentiment_model import CARD_NAME as SENTIMENT_CARD
from tests.helpers import DEMO_CSV, TOPIC_MODEL_FILES, copy_models, demo_rows, write_sentiment_sample

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("row", demo_rows(), ids=lambda r: r["author"])
def test_demo_comment_gets_the_topic_a_person_gave_it(analyzer, row):
    assert analyzer.analyze(row["body"]).topic == row["topic"]


def test_analysis_has_every_field_and_is_frozen(analyzer):
    result = analyzer.analyze("Insurers should not see my fitness tracker data.")
    assert isinstance(result, Analysis)
    assert set(result.topic_scores) == set(TOPICS)
    assert sum(result.topic_scores.values()) == pytest.approx(1.0, abs=1e-4)
    calibrated = analyzer.model.calibration(result.topic_scores[result.topic])
    assert result.topic_confidence == pytest.approx(float(calibrated), abs=1e-4)
    assert set(result.sentiment_scores) == {"neg", "neu", "pos", "compound"}
    assert result.model_version == analyzer.version
    with pytest.raises(FrozenInstanceError):
        result.topic = "cost"  # type: ignore[misc]


def same_answer(a: Analysis, b: Analysis) -> bool:
    """Equal labels and terms; scores equal up to float noise (a batch pads the encoder's input)."""
    return ((a.topic, a.sentiment, a.topic_uncertain, a.sentiment_scores, a.model_version)
            == (b.topic, b.sentiment, b.topic_uncertain, b.sentiment_scores, b.model_version)
            and [t.term for t in a.topic_terms] == [t.term for t in b.topic_terms]
            and a.topic_scores == pytest.approx(b.topic_scores, abs=1e-4)
            and a.topic_confidence == pytest.approx(b.topic_confidence, abs=1e-4)
            and a.sentiment_score == pytest.approx(b.sentiment_score, abs=1e-4))


def test_analyze_equals_analyze_many(analyzer):
    texts = [r["body"] for r in demo_rows()] + ["", "lol", "Taxes again?!"]
    together, alone = analyzer.analyze_many(texts), [analyzer.analyze(t) for t in texts]
    assert all(same_answer(a, b) for a, b in zip(together, alone, strict=True))


@pytest.mark.parametrize("text", [
    "", "   ", "a", "🙂🔥💯", "x" * 50_000, "word " * 20_000,
    "Das ist eine Frechheit, die Preise steigen jeden Monat.",
    "这是一个关于隐私的评论", "<script>alert(1)</script>", "\x00\x01 null bytes \u202e",
])
def test_odd_inputs_get_an_answer(analyzer, text):
    result = analyzer.analyze(text)
    assert result.topic in TOPICS and result.sentiment in {"positive", "neutral", "negative"}


def test_an_answer_does_not_depend_on_the_rest_of_the_batch(analyzer):
    text = "The council's budget overrun will land on renters."
    alone = analyzer.analyze(text)
    neighbours = [r["body"] for r in demo_rows()]
    assert same_answer(analyzer.analyze_many([*neighbours, text])[-1], alone)
    first, last = analyzer.analyze_many([text, *neighbours, text])[::len(neighbours) + 1]
    assert same_answer(first, alone) and same_answer(last, alone)


def test_module_level_helpers_use_the_configured_model(model_dir, analyzer):
    script = ("import json, classifiers as c; t = 'Hospitals sell patient records without consent.'; "
              "print(json.dumps([c.analyze(t).as_dict(), [a.as_dict() for a in c.analyze_many([t, 'lol'])], "
              "[[x.term, x.weight] for x in c.explain(t, top=3)]]))")
    env = {**os.environ, "COMMENT_MODEL_DIR": str(model_dir)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    one, many, terms = json.loads(result.stdout)
    text = "Hospitals sell patient records without consent."
    assert one == analyzer.analyze(text).as_dict() and one["topic"] == "privacy"
    assert many == [a.as_dict() for a in analyzer.analyze_many([text, "lol"])]
    assert terms == [[t.term, t.weight] for t in analyzer.explain(text, top=3)]


def test_weak_topics_fall_back_to_other():
    proba = np.array([[0.3, 0.25, 0.2, 0.05, 0.2], [0.9, 0.02, 0.03, 0.03, 0.02]])
    assert topic_model.decide_topics(proba, 0.35) == ["other", "privacy"]
    assert topic_model.decide_topics(proba, 0.0) == ["privacy", "privacy"]


@pytest.mark.parametrize(("compound", "label"), [
    (0.05, "positive"), (0.0499, "neutral"), (-0.0499, "neutral"), (-0.05, "negative")])
def test_sentiment_uses_the_standard_vader_thresholds(compound, label):
    assert label_for(compound) == label


def test_explain_names_the_words_that_pushed_the_topic(analyzer):
    terms = analyzer.explain("Hospitals sell patient records to insurers without consent.", top=3)
    assert 1 <= len(terms) <= 3
    assert all(t.weight > 0 for t in terms)
    assert [t.weight for t in terms] == sorted((t.weight for t in terms), reverse=True)
    assert any(t.term in {"records", "patient", "consent", "patient records"} for t in terms)


def test_model_card_records_provenance_and_metrics(model_dir):
    card = json.loads((model_dir / topic_model.CARD_NAME).read_text())
    assert card["data"]["sha256"] == dataset.data_hash()
    assert card["seed"] == topic_model.SEED
    assert {"scikit-learn", "numpy", "python"} <= set(card["libraries"])
    for part in PARTS:
        assert 0 < card["held_out"][part]["macro_f1"] <= 1
    for source, readings in (("civil_comments", 400), ("polis", 300)):
        assert card["labeling"][source]["n"] == readings and card["labeling"][source]["kappa"] > 0.6
        assert 0 < card["labeling"][source]["second_reading_macro_f1"] <= 1
    assert card["threshold"]["other_below"] in topic_model.THRESHOLD_GRID
    assert "CC BY 4.0" in card["attribution"] and "Computational Democracy Project" in card["attribution"]
    assert card["embeddings"]["sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    for part in PARTS:
        low, high = card["held_out"][part]["macro_f1_ci95"]
        assert low <= card["held_out"][part]["macro_f1"] <= high


PARTS = ("all", "real", "civil_comments", "polis", "written")


def test_held_out_metrics_agree_with_their_confusion_matrix(model_dir):
    card = json.loads((model_dir / topic_model.CARD_NAME).read_text())
    for part in PARTS:
        report = card["held_out"][part]
        matrix = report["confusion_matrix"]["rows_true_cols_predicted"]
        assert report["confusion_matrix"]["labels"] == list(TOPICS)
        assert sum(map(sum, matrix)) == report["n"]
        for i, name in enumerate(TOPICS):
            scores = report["per_class"][name]
            predicted_as = sum(row[i] for row in matrix)
            assert sum(matrix[i]) == scores["support"]
            assert scores["recall"] == pytest.approx(matrix[i][i] / max(sum(matrix[i]), 1), abs=1e-4)
            assert scores["precision"] == pytest.approx(matrix[i][i] / max(predicted_as, 1), abs=1e-4)


def test_held_out_split_shares_no_text_with_training():
    parts = dataset.split(dataset.load_labeled(), topic_model.SEED)
    seen = {dataset.normalized(r.text) for r in parts.train}
    assert not [r.text for r in parts.test if dataset.normalized(r.text) in seen]
    assert 0.2 < len(parts.test) / (len(parts.train) + len(parts.test)) < 0.3
    for source in ("civil_comments", "written"):
        assert any(r.source == source for r in parts.test)


def test_new_labels_never_move_an_existing_row_across_the_split():
    rows = dataset.load_labeled()
    before = dataset.split(rows[:-500], topic_model.SEED)
    after = dataset.split(rows, topic_model.SEED)
    kept = {id(r) for r in rows[:-500]}
    assert [r for r in after.test if id(r) in kept] == before.test
    assert [r for r in after.train if id(r) in kept] == before.train
    assert dataset.split(rows, topic_model.SEED + 1).test != after.test


def test_bootstrap_interval_brackets_the_figure_and_narrows_with_more_rows():
    truth = ["privacy", "cost", "other", "other", "fairness", "other", "cost", "other"] * 5
    predicted = ["privacy", "other", "other", "cost", "fairness", "other", "cost", "other"] * 5
    small = evaluation.bootstrap_macro_f1(truth, predicted)
    large = evaluation.bootstrap_macro_f1(truth * 20, predicted * 20)
    figure = evaluation.macro_f1(truth, predicted)
    assert small[0] < figure < small[1] and large[0] < figure < large[1]
    assert large[1] - large[0] < (small[1] - small[0]) / 2
    assert evaluation.bootstrap_macro_f1(truth, truth) == [1.0, 1.0]


def test_bootstrap_of_perfect_answers_has_no_noise_even_with_a_rare_class():
    truth = ["other"] * 100 + ["privacy"] * 2  # most resamples draw no privacy row at all
    assert evaluation.bootstrap_macro_f1(truth, truth) == [1.0, 1.0]
    assert evaluation.macro_f1_standard_error(truth, truth) == 0.0


def write_sample(path: Path, keep: Callable[[int, dataset.LabeledComment], bool]) -> Path:
    """Write the shipped rows that `keep` accepts as a small labeled CSV for quick training."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "topic", "source", "comment_id"])
        writer.writerows([r.text, r.topic, r.source, r.comment_id]
                         for i, r in enumerate(dataset.load_labeled()) if keep(i, r))
    return path


def first_of_each_stratum(limit: int) -> Callable[[int, dataset.LabeledComment], bool]:
    """Keep the first `limit` rows of every topic/source pair, so every fold sees every class."""
    seen: Counter[tuple[str, str]] = Counter()

    def keep(_: int, row: dataset.LabeledComment) -> bool:
        seen[(row.topic, row.source)] += 1
        return seen[(row.topic, row.source)] <= limit

    return keep


def test_same_data_and_seed_give_the_same_model(tmp_path):
    data = write_sample(tmp_path / "sample.csv", lambda i, _: i % 8 == 0)
    first = topic_model.train(tmp_path / "a", data)
    second = topic_model.train(tmp_path / "b", data)
    assert first.card["held_out"] == second.card["held_out"]
    assert first.card["hyperparameters"] == second.card["hyperparameters"]
    texts = ["rent is too high", "they track my phone"]
    assert (first.probabilities(texts) == second.probabilities(texts)).all()


def test_selection_compares_candidates_and_train_applies_the_winner(tmp_path):
    data = write_sample(tmp_path / "sample.csv", first_of_each_stratum(40))
    out = tmp_path / "selection.json"
    result = invoke_cli("select", "--data", str(data), "--out", str(out), stdin="", model_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert "fold 3/3" in result.stderr and json.loads(result.stdout)["chosen"] == report["chosen"]
    table = report["candidates"]
    assert len(table) == len(selection.CANDIDATES)
    best = max(table, key=lambda row: (row["criterion_macro_f1"], row["all_macro_f1"]))
    assert report["chosen"]["name"] == best["name"]
    assert all(0 < row["criterion_standard_error"] < 0.2 for row in table)
    scores = report["threshold"]["criterion_macro_f1_by_threshold"]
    threshold, error = report["threshold"]["other_below"], report["threshold"]["standard_error"]
    assert scores[str(threshold)] >= max(scores.values()) - error
    assert all(scores[str(t)] < max(scores.values()) - error
               for t in topic_model.THRESHOLD_GRID if t < threshold)
    assert {"all", "real", "civil_comments", "polis", "written"} <= set(report["out_of_fold"])
    assert report["calibration"]["uncertain_below"] == 0.5
    assert report["calibration"]["correct"] == sorted(report["calibration"]["correct"])
    for source, other in (("civil_comments", "polis"), ("polis", "civil_comments")):
        loso = report["leave_one_source_out"][source]
        assert source not in loso["trained_on"] and loso["trained_on"][other] > 0
        assert loso["scored_on"] == sum(r.source == source for r in dataset.load_labeled(data))
        assert 0 <= loso["model"]["macro_f1"] <= 1 and 0 <= loso["keyword_rule"]["macro_f1"] <= 1

    model = topic_model.train(tmp_path / "m", data, selection_path=out)
    assert model.card["hyperparameters"]["features"] == report["chosen"]["features"]
    assert model.card["hyperparameters"]["C"] == report["chosen"]["c"]
    assert model.card["hyperparameters"]["embedding_weight"] == report["chosen"]["embedding_weight"]
    assert model.card["hyperparameters"]["class_weight"] == report["chosen"]["class_weight"]
    assert model.threshold == report["threshold"]["other_below"]
    assert model.card["selection"]["ran_on_this_data"] is True
    assert model.card["cross_validation"]["oof"] == report["out_of_fold"]


def test_selection_grid_holds_its_best_c_inside_and_varies_each_lever_at_one_c():
    embedding_cs = sorted(c.c for c in selection.CANDIDATES if c.features == selection.EMBEDDING_DESIGN
                          and c.embedding_weight == 1.0 and c.class_weight == "balanced")
    assert embedding_cs[0] < selection.VARIED_AT_C < embedding_cs[-1]
    varied = [c for c in selection.CANDIDATES if c.embedding_weight != 1.0 or c.class_weight != "balanced"]
    assert varied and all(c.c == selection.VARIED_AT_C for c in varied)
    assert len({c.name for c in selection.CANDIDATES}) == len(selection.CANDIDATES)


def test_embedding_weight_scales_only_the_sentence_vector_inside_the_pipeline():
    texts = ["rent is too high", "they track my phone", "rent is high and they track us"]
    plain = topic_model.build_pipeline(embedding_weight=1.0).named_steps["features"].fit(texts)
    doubled = topic_model.build_pipeline(embedding_weight=2.0).named_steps["features"].fit(texts)
    a, b = plain.transform(texts).toarray(), doubled.transform(texts).toarray()
    n_grams = a.shape[1] - 384
    assert np.allclose(b[:, :n_grams], a[:, :n_grams])
    assert np.allclose(b[:, n_grams:], 2 * a[:, n_grams:]) and np.abs(a[:, n_grams:]).sum() > 0


def test_unknown_class_weight_is_refused_by_name():
    with pytest.raises(ValueError, match="sqrt"):
        topic_model.build_classifier(8.0, class_weight="sqrt")


def test_learning_curve_trains_on_growing_shares_of_the_real_rows(tmp_path):
    data = write_sample(tmp_path / "sample.csv", first_of_each_stratum(60))
    result = invoke_cli("curve", "--data", str(data), "--fractions", "0.5,1", stdin="", model_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    half, full = report["points"]
    assert [half["fraction"], full["fraction"]] == [0.5, 1.0]
    assert half["real_train_rows"] == round(full["real_train_rows"] / 2)
    assert sum(full["real_train_rows_per_topic"].values()) == full["real_train_rows"]
    held_out = [r for r in dataset.split(dataset.load_labeled(data), topic_model.SEED).test if r.is_real]
    assert report["held_out_real_rows"] == len(held_out)
    assert all(0 <= p["macro_f1"] <= 1 and set(p["f1_per_topic"]) == set(TOPICS) for p in report["points"])
    assert "fitting on 50% of the real training rows" in result.stderr


def test_learning_curve_on_data_without_real_comments_is_a_clear_error(tmp_path):
    data = write_sample(tmp_path / "written.csv", lambda _, row: row.source == "written")
    result = invoke_cli("curve", "--data", str(data), "--fractions", "1", stdin="", model_dir=tmp_path)
    assert result.returncode == 1 and "has no real comments" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("fractions", ["0,1", "1.5", "half"])
def test_learning_curve_refuses_fractions_outside_zero_to_one(tmp_path, fractions):
    result = invoke_cli("curve", "--fractions", fractions, stdin="", model_dir=tmp_path)
    assert result.returncode == 2 and "Invalid value for '--fractions'" in result.stderr
    assert "Traceback" not in result.stderr


CONFIDENT = [[0.0, 0.9, 0.0, 0.0, 0.1], [0.0, 0.1, 0.0, 0.0, 0.9], [0.0, 0.0, 0.0, 0.1, 0.9],
             [0.8, 0.0, 0.0, 0.0, 0.2], [0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.8, 0.0, 0.0, 0.2]] * 20
CONFIDENT_TRUTH = ["cost", "other", "other", "privacy", "other", "cost"] * 20
MISSED_COST = [[0.0, 0.2, 0.0, 0.0, 0.8]] * 15  # real mistakes, so the scores carry noise


@pytest.mark.parametrize(("doubtful", "expected"), [(3, 0.0), (6, 0.35)])
def test_threshold_is_kept_only_when_it_beats_the_noise(doubtful, expected):
    # `other` comments the model half-believes are cost: only a threshold of 0.35 or more fixes them.
    proba = np.array(CONFIDENT + MISSED_COST + [[0.0, 0.3, 0.0, 0.0, 0.25]] * doubtful)
    truth = CONFIDENT_TRUTH + ["cost"] * 15 + ["other"] * doubtful
    threshold, scores, error = topic_model.tune_threshold(proba, truth)
    assert scores["0.35"] > scores["0.0"]  # with 3 rows the threshold helps, but by less than the noise
    assert threshold == expected
    assert (scores["0.35"] - scores["0.0"] > error) == (expected > 0)


def test_shipped_selection_was_run_on_the_shipped_data(model_dir):
    card = json.loads((model_dir / topic_model.CARD_NAME).read_text())
    assert card["selection"]["ran_on_this_data"] is True
    assert "real comments" in card["selection"]["chosen"]["why"]


def test_artifact_round_trip_gives_identical_answers(model_dir, analyzer):
    reloaded = load_analyzer(model_dir)
    texts = [r["body"] for r in demo_rows()]
    assert reloaded.analyze_many(texts) == analyzer.analyze_many(texts)


def test_missing_model_says_how_to_rebuild(tmp_path):
    with pytest.raises(ModelUnavailable, match="python -m classifiers train"):
        load_analyzer(tmp_path)


def test_corrupt_artifact_is_refused_not_loaded(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    (folder / topic_model.ARTIFACT_NAME).write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="does not match its model card.*python -m classifiers train"):
        load_analyzer(folder)


def replace_artifact(folder: Path, content: bytes) -> None:
    """Write new artifact bytes and a card that vouches for them, as a careless copy would."""
    (folder / topic_model.ARTIFACT_NAME).write_bytes(content)
    card = json.loads((folder / topic_model.CARD_NAME).read_text())
    card["artifact"]["sha256"] = hashlib.sha256(content).hexdigest()
    (folder / topic_model.CARD_NAME).write_text(json.dumps(card))


def test_unreadable_artifact_with_a_matching_card_is_refused(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    replace_artifact(folder, b"truncated pickle")
    with pytest.raises(ModelUnavailable, match="cannot load .*python -m classifiers train"):
        load_analyzer(folder)


def test_artifact_pickled_by_another_scikit_learn_is_refused_even_if_the_card_says_otherwise(
        model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    current = sklearn.__version__.encode()
    other = b"0" * len(current)  # same length keeps the pickle well formed
    content = (folder / topic_model.ARTIFACT_NAME).read_bytes()
    assert current in content
    replace_artifact(folder, content.replace(current, other))
    with pytest.raises(ModelUnavailable, match="InconsistentVersionWarning.*python -m classifiers train"):
        load_analyzer(folder)


def test_artifact_from_another_scikit_learn_is_refused(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    card = json.loads((folder / topic_model.CARD_NAME).read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (folder / topic_model.CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelUnavailable, match="scikit-learn 0.24.2"):
        load_analyzer(folder)


def run_cli(*args: str, stdin: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    """`python -m classifiers ARGS` in a process of its own, as an operator runs it."""
    env = {**os.environ, "COMMENT_MODEL_DIR": str(model_dir)}
    return subprocess.run([sys.executable, "-m", "classifiers", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=300, cwd=ROOT)


def invoke_cli(*args: str, stdin: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    """The same command in this process (no interpreter start and model load per test).

    An exception the command did not turn into a message fails the test, as a traceback would.
    """
    result = CliRunner().invoke(cli.main, list(args), input=stdin, env={"COMMENT_MODEL_DIR": str(model_dir)})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["classifiers", *args], result.exit_code, result.stdout, result.stderr)


def test_predict_cli_reads_json_lines_and_keeps_order(model_dir):
    bodies = [r["body"] for r in demo_rows()]
    result = run_cli("predict", stdin="".join(json.dumps({"body": b}) + "\n" for b in bodies),
                     model_dir=model_dir)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["topic"] for line in lines] == [r["topic"] for r in demo_rows()]
    assert set(lines[0]) == {"topic", "topic_scores", "topic_confidence", "topic_uncertain", "topic_terms",
                             "sentiment", "sentiment_score", "sentiment_scores", "model_version"}
    assert "classified 6 comments" in result.stderr


def test_predict_cli_reads_plain_text(model_dir):
    plain = invoke_cli("predict", "--plain", stdin="cheap rent please\nmy data is mine\n",
                    model_dir=model_dir)
    assert plain.returncode == 0, plain.stderr
    assert len(plain.stdout.splitlines()) == 2


@pytest.mark.parametrize(("line", "reason"), [
    ('{"text": "no body field"}', 'it has no "body" field'),
    ("not json at all", "not JSON: Expecting value"),
    ("[1, 2]", "got a JSON list"),
    ('{"body": null}', '"body" must be text, got NoneType'),
    ('{"body": 5}', '"body" must be text, got int'),
])
def test_predict_cli_names_the_bad_line_and_keeps_the_lines_before_it(model_dir, analyzer, line, reason):
    first, second = (r["body"] for r in demo_rows()[1:3])
    good = [json.dumps({"body": body}) for body in (first, second, first)]
    result = invoke_cli("predict", stdin="\n".join([*good[:2], line, good[2]]) + "\n", model_dir=model_dir)
    assert result.returncode == 1
    assert 'line 3: expected a JSON object with a "body" field' in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
    written = [json.loads(out) for out in result.stdout.splitlines()]
    assert written == [a.as_dict() for a in analyzer.analyze_many([first, second])]


def test_predict_cli_names_the_line_that_is_not_utf8_and_keeps_the_lines_before_it(model_dir, tmp_path):
    source = tmp_path / "mixed.txt"
    long_line = ("Rents here keep climbing. " * 200).encode()  # bigger than a decoder's chunk
    source.write_bytes(long_line + b"\n" + "Caf\u00e9 ok\n".encode() + "Caf\u00e9 prices\n".encode("latin-1")
                       + b"never read\n")
    result = invoke_cli("predict", "--plain", str(source), stdin="", model_dir=model_dir)
    assert result.returncode == 1 and "line 3: not valid UTF-8 (byte 4" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_predict_cli_writes_each_line_once_across_batches(model_dir, monkeypatch):
    monkeypatch.setattr(cli, "BATCH", 2)
    bodies = [f"Comment number {i} about the bus timetable." for i in range(5)]
    stdin = "".join(json.dumps({"body": b}) + "\n" for b in bodies) + "oops\n"
    result = CliRunner().invoke(cli.main, ["predict", "--model-dir", str(model_dir)], input=stdin)
    assert result.exit_code == 1 and "line 6: expected a JSON object" in result.output
    written = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(written) == 5
    assert "classified 4 comments" in result.output and "classified 5 comments" in result.output


def test_predict_cli_with_a_refused_model_says_how_to_rebuild(model_dir, tmp_path):
    folder = copy_models(model_dir, tmp_path / "m")
    (folder / topic_model.ARTIFACT_NAME).write_bytes(b"not a model")
    result = invoke_cli("predict", "--plain", stdin="hello\n", model_dir=folder)
    assert result.returncode == 1 and "python -m classifiers train" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_predict_builds_a_missing_model_first(model_dir, tmp_path):
    # The sentiment model is missing and is built from the shipped data before predicting. Building
    # the topic model too takes a minute of the suite; the set-up's `train --if-stale` builds both
    # from nothing on every fresh checkout, and `load_analyzer` treats the two models alike.
    folder = copy_models(model_dir, tmp_path / "half", TOPIC_MODEL_FILES)
    result = run_cli("predict", "--plain", stdin="who pays for this?\n", model_dir=folder)
    assert result.returncode == 0, result.stderr
    assert "no sentiment model in" in result.stderr and "training one from the shipped data" in result.stderr
    assert "no topic model" not in result.stderr
    assert json.loads(result.stdout)["topic"] in TOPICS
    assert (folder / SENTIMENT_CARD).exists() and (folder / SENTIMENT_ARTIFACT).exists()


def test_evaluate_cli_reports_held_out_threshold_effect_and_demo(model_dir):
    result = invoke_cli("evaluate", stdin="", model_dir=model_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    card = json.loads((model_dir / topic_model.CARD_NAME).read_text())
    assert report["demo"]["topic_agreement"] == 6
    vader = SentimentIntensityAnalyzer()
    agreeing = sum(label_for(vader.polarity_scores(r["body"])["compound"]) == r["sentiment"]
                   for r in demo_rows())
    assert report["demo"]["vader_sentiment_agreement"] == agreeing
    assert report["threshold"]["other_below"] == card["threshold"]["other_below"]
    assert report["held_out"]["real"]["macro_f1"] == card["held_out"]["real"]["macro_f1"]
    by_threshold = report["held_out_macro_f1_by_threshold"]
    assert list(by_threshold) == [str(t) for t in topic_model.THRESHOLD_GRID]
    chosen = by_threshold[str(card["threshold"]["other_below"])]
    assert chosen == {part: card["held_out"][part]["macro_f1"] for part in PARTS}
    assert report["held_out_calibration"] == card["held_out_calibration"]


def test_shipped_demo_is_the_shared_demo():
    shared = ROOT.parent / "shared" / "demo" / "comments.csv"
    if not shared.exists():
        pytest.skip("no ../shared/demo beside this checkout")
    assert DEMO_CSV.read_bytes() == shared.read_bytes()


# The labeled data itself -------------------------------------------------------------------

def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def test_labeled_data_meets_the_size_rules():
    rows = dataset.load_labeled()
    per_topic = Counter(r.topic for r in rows)
    assert len(rows) >= 2500
    assert min(per_topic.values()) >= 300
    assert per_topic.most_common(1)[0][0] == "other"
    real = [r for r in rows if r.source == "civil_comments"]
    assert len(real) >= 1200 and all(r.comment_id.isdigit() for r in real)
    assert len({r.comment_id for r in real}) == len(real)


def test_written_comments_do_not_share_most_of_their_words():
    # Every pair at once: shared words are a product of the texts' word-presence matrix.
    written = [w for r in dataset.load_labeled() if r.source == "written" and len(w := words(r.text)) >= 3]
    vocabulary = {word: i for i, word in enumerate(sorted(set().union(*written)))}
    present = np.zeros((len(written), len(vocabulary)), dtype=np.float32)
    for row, text_words in enumerate(written):
        present[row, [vocabulary[word] for word in text_words]] = 1
    shared = present @ present.T
    sizes = present.sum(axis=1)
    jaccard = shared / (sizes[:, None] + sizes[None, :] - shared)
    np.fill_diagonal(jaccard, 0)
    a, b = np.unravel_index(np.argmax(jaccard), jaccard.shape)
    assert jaccard[a, b] <= 0.5, (sorted(written[a]), sorted(written[b]))


def test_demo_comments_are_not_training_data():
    texts = {r.text.strip() for r in dataset.load_labeled()}
    assert not texts & {r["body"].strip() for r in demo_rows()}


def test_train_if_stale_skips_a_current_model_and_rebuilds_after_new_labels(tmp_path):
    first = write_sample(tmp_path / "first.csv", first_of_each_stratum(30))
    second = write_sample(tmp_path / "second.csv", first_of_each_stratum(35))
    feelings = ["--sentiment-data", str(write_sentiment_sample(tmp_path / "sentiment.csv", 30))]
    folder = tmp_path / "m"
    built = invoke_cli("train", "--if-stale", "--data", str(first), *feelings, stdin="", model_dir=folder)
    assert built.returncode == 0 and "fitting" in built.stderr, built.stderr
    artifact = (folder / topic_model.ARTIFACT_NAME).read_bytes()
    sentiment_artifact = (folder / SENTIMENT_ARTIFACT).read_bytes()

    current = invoke_cli("train", "--if-stale", "--data", str(first), *feelings, stdin="", model_dir=folder)
    assert current.returncode == 0 and "up to date" in current.stderr and current.stdout == ""
    assert (folder / topic_model.ARTIFACT_NAME).read_bytes() == artifact

    stale = invoke_cli("train", "--if-stale", "--data", str(second), *feelings, stdin="", model_dir=folder)
    assert stale.returncode == 0 and "fitting" in stale.stderr, stale.stderr
    assert "the sentiment model in" in stale.stderr and set(json.loads(stale.stdout)) == {"topic"}
    card = json.loads((folder / topic_model.CARD_NAME).read_text())
    assert card["data"]["sha256"] == dataset.data_hash(second)
    assert (folder / SENTIMENT_ARTIFACT).read_bytes() == sentiment_artifact


def test_confidence_is_calibrated_and_low_confidence_topics_are_marked_uncertain(analyzer):
    from dataclasses import replace

    from classifiers import Analyzer
    from classifiers.topic import Calibration

    strict = Calibration(raw=(0.0, 0.5, 1.0), correct=(0.0, 0.3, 1.0), uncertain_below=0.5)
    model = Analyzer(replace(analyzer.model, calibration=strict), analyzer.sentiment)
    texts = [r["body"] for r in demo_rows()] + ["ok", "What about it?", "Rent, wages and fair pay."]
    proba = model.model.probabilities(texts)
    for analysis, row in zip(model.analyze_many(texts), proba, strict=True):
        raw = float(row[TOPICS.index(analysis.topic)])
        expected = 0.6 * raw if raw <= 0.5 else 0.3 + 1.4 * (raw - 0.5)
        assert analysis.topic_confidence == pytest.approx(expected, abs=1e-5)
        assert analysis.topic_uncertain is (expected < 0.5)


def test_shipped_calibration_is_monotone_and_comes_from_the_selection(analyzer):
    record = topic_model.read_selection()["calibration"]
    calibration = analyzer.model.calibration
    assert list(calibration.raw) == record["raw"] and list(calibration.correct) == record["correct"]
    assert list(calibration.correct) == sorted(calibration.correct)
    assert calibration.uncertain_below == record["uncertain_below"] == 0.5
