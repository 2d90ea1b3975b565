"""`python -m classifiers train|select|curve|evaluate|predict`: results on stdout, progress on stderr."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from classifiers import artifacts, curve, evaluation, selection, sentiment_model
from classifiers import topic as topic_model
from classifiers.analysis import Analyzer, load_analyzer
from classifiers.dataset import REAL_SOURCES, SELECTION_JSON, TOPICS_CSV, Progress
from classifiers.sentiment import label_for, sentiment_scores

DEMO_CSV = Path(__file__).resolve().parent.parent / "moderation" / "demo" / "comments.csv"
BATCH = 256


def say(message: str) -> None:
    """Progress and notices go to stderr, so stdout carries only results."""
    click.echo(message, err=True)


@click.group()
def main() -> None:
    """Train, evaluate and run the comment topic and sentiment classifiers."""


model_dir_option = click.option(
    "--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Artifact folder (default: COMMENT_MODEL_DIR or ./models).",
)
data_option = click.option(
    "--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=TOPICS_CSV, show_default=True, help="Labeled topics CSV.",
)
seed_option = click.option("--seed", type=int, default=topic_model.SEED, show_default=True)
sentiment_data_option = click.option(
    "--sentiment-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=sentiment_model.SENTIMENT_CSV, show_default=True, help="Labeled sentiment CSV.",
)


@contextmanager
def step_progress(steps: int, label: str) -> Iterator[Progress]:
    """A progress bar on stderr and the callback that advances it by one step, naming the step."""
    with click.progressbar(length=steps, label=label, file=sys.stderr) as bar:
        def advance(message: str) -> None:
            bar.label = message
            bar.update(1)

        yield advance


@main.command()
@model_dir_option
@data_option
@sentiment_data_option
@seed_option
@click.option("--if-stale", is_flag=True,
              help="Rebuild only a model that is missing or was built from other data (for set-up scripts).")
def train(model_dir: Path | None, data: Path, sentiment_data: Path, seed: int, if_stale: bool) -> None:
    """Rebuild the topic and the sentiment model from the labeled data and write their model cards."""
    folder = model_dir or topic_model.default_model_dir()
    report = {}
    if if_stale and topic_model.is_current(model_dir, data):
        say(f"the topic model in {folder} is up to date with {data.name}")
    else:
        report["topic"] = topic_summary(topic_model.train(model_dir, data, seed, progress=say))
        say(f"wrote {report['topic']['version']} to {folder}")
    if if_stale and sentiment_model.is_current(model_dir, sentiment_data):
        say(f"the sentiment model in {folder} is up to date with {sentiment_data.name}")
    else:
        report["sentiment"] = sentiment_summary(
            sentiment_model.train(model_dir, sentiment_data, seed, progress=say).card)
        say(f"wrote {report['sentiment']['version']} to {folder}")
    if report:
        click.echo(json.dumps(report, indent=2))


def topic_summary(model: topic_model.TopicModel) -> dict[str, object]:
    """The topic model's headline figures, as `train` prints them."""
    return {
        "version": model.version,
        "threshold": model.threshold,
        "held_out_macro_f1": {k: v.get("macro_f1") for k, v in model.card["held_out"].items()},
        "kappa": {source: agreement["kappa"] for source, agreement in model.card["labeling"].items()},
    }


def sentiment_summary(card: dict) -> dict[str, object]:
    """The sentiment model's macro-F1 beside raw VADER's on the same rows: held out, and per unseen source."""
    def pair(figures: dict) -> dict[str, object]:
        return {"n": figures["n"], "model": figures["model"]["macro_f1"],
                "vader": figures["vader"]["macro_f1"]}

    return {
        "version": card["version"],
        "chosen": card["selection"]["chosen"]["name"],
        "held_out_macro_f1": {part: pair(f) for part, f in card["held_out"].items()},
        "leave_one_source_out_macro_f1": {s: pair(f) for s, f in card["leave_one_source_out"].items()},
        "kappa": {source: agreement["kappa"] for source, agreement in card["labeling"].items()},
    }


@main.command()
@data_option
@seed_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=SELECTION_JSON, show_default=True,
              help="Where to record the comparison (train reads it).")
@click.option("--no-generalisation", is_flag=True,
              help="Skip leave-one-source-out (three times faster; the card then lacks those figures).")
def select(data: Path, seed: int, out: Path, no_generalisation: bool) -> None:
    """Compare candidate pipelines by cross-validation and record the winner for `train`."""
    runs = 1 if no_generalisation else 1 + len(REAL_SOURCES)
    steps = runs * topic_model.CV_FOLDS * 2 + (0 if no_generalisation else len(REAL_SOURCES))
    with step_progress(steps, "cross-validating") as advance:
        report = selection.select(data, seed, progress=advance, cache_dir=topic_model.embedding_cache(),
                                  generalisation=not no_generalisation)
    artifacts.write_record(report, out)
    say(f"wrote {out}")
    click.echo(json.dumps({"chosen": report["chosen"], "threshold": report["threshold"]["other_below"],
                           "candidates": report["candidates"]}, indent=2))


@main.command(name="select-sentiment")
@sentiment_data_option
@seed_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=sentiment_model.SELECTION_JSON, show_default=True)
def select_sentiment(sentiment_data: Path, seed: int, out: Path) -> None:
    """Choose the sentiment model's features and C by cross-validation, measure leave-one-source-out,
    and record both for `train`."""
    steps = 1 + (1 + len(REAL_SOURCES)) * sentiment_model.CV_FOLDS + len(REAL_SOURCES)
    with step_progress(steps, "cross-validating") as advance:
        record = sentiment_model.select(sentiment_data, seed, progress=advance)
    artifacts.write_record(record, out)
    say(f"wrote {out}")
    click.echo(json.dumps({"chosen": record["chosen"], "candidates": record["candidates"]}, indent=2))


def parse_fractions(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[float, ...]:
    """Read "0.25,0.5,1" into shares of the real training rows, each above 0 and at most 1."""
    try:
        fractions = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None
    if not all(0 < f <= 1 for f in fractions):
        raise click.BadParameter("each fraction must be above 0 and at most 1")
    return fractions


@main.command(name="curve")
@data_option
@seed_option
@click.option("--fractions", default=",".join(f"{f:g}" for f in curve.DEFAULT_FRACTIONS),
              show_default=True, callback=parse_fractions,
              help="Shares of the real training rows to train on, comma-separated.")
def learning_curve(data: Path, seed: int, fractions: tuple[float, ...]) -> None:
    """Show how held-out macro-F1 on real comments grows with the real rows trained on."""
    with step_progress(len(fractions), "learning curve") as advance:
        try:
            report = curve.learning_curve(data, seed, fractions, progress=advance,
                                          cache_dir=topic_model.embedding_cache())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report, indent=2))


@main.command()
@model_dir_option
@click.option("--demo", type=click.Path(dir_okay=False, path_type=Path), default=DEMO_CSV,
              show_default=True, help="CSV with body,topic,sentiment columns (smoke test).")
@click.option("--reliability-svg", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the held-out reliability diagram (raw and calibrated) into this SVG file.")
def evaluate(model_dir: Path | None, demo: Path, reliability_svg: Path | None) -> None:
    """Print the held-out metrics from the card and the demo smoke test, as JSON."""
    analyzer = open_analyzer(model_dir)
    card = analyzer.model.card
    if reliability_svg is not None and card.get("held_out_calibration"):
        tables = {"raw probability": card["held_out_calibration"]["raw"],
                  "calibrated": card["held_out_calibration"]["calibrated"]}
        reliability_svg.write_text(evaluation.reliability_svg(tables, "Top topic: held-out reliability"))
    sentiment_card = analyzer.sentiment.card
    report = {
        "version": analyzer.version,
        "threshold": card["threshold"],
        "held_out": card["held_out"],
        "held_out_real_without_privacy": card.get("held_out_real_without_privacy"),
        "held_out_keyword_rule": card.get("held_out_keyword_rule"),
        "held_out_macro_f1_by_threshold": card.get("held_out_macro_f1_by_threshold"),
        "held_out_calibration": card.get("held_out_calibration"),
        "leave_one_source_out": card.get("leave_one_source_out"),
        "cross_validation": card["cross_validation"],
        "labeling": card["labeling"],
        "sentiment": {key: sentiment_card.get(key) for key in (
            "version", "hyperparameters", "selection", "held_out", "leave_one_source_out", "labeling")},
        "demo": demo_agreement(analyzer, demo) if demo.exists() else None,
    }
    click.echo(json.dumps(report, indent=2))


def demo_agreement(analyzer: Analyzer, demo: Path) -> dict[str, object]:
    """How often the models and raw VADER agree with a person on the demo comments."""
    with demo.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    results = analyzer.analyze_many([r["body"] for r in rows])
    vader = [label_for(sentiment_scores(r["body"])["compound"]) for r in rows]
    return {
        "n": len(rows),
        "topic_agreement": sum(a.topic == r["topic"] for a, r in zip(results, rows, strict=True)),
        "sentiment_agreement": sum(a.sentiment == r["sentiment"] for a, r in zip(results, rows, strict=True)),
        "vader_sentiment_agreement": sum(v == r["sentiment"] for v, r in zip(vader, rows, strict=True)),
        "rows": [{"author": r["author"], "topic": r["topic"], "predicted_topic": a.topic,
                  "sentiment": r["sentiment"], "predicted_sentiment": a.sentiment,
                  "sentiment_score": a.sentiment_score, "vader_sentiment": v}
                 for a, r, v in zip(results, rows, vader, strict=True)],
    }


def read_bodies(stream: IO[bytes], plain: bool) -> Iterator[str]:
    """Yield comment texts from JSON lines (`body` field) or plain lines."""
    for number, line in numbered_lines(stream):
        if plain:
            yield line.rstrip("\r\n")
        elif line.strip():
            yield body_of(number, line)


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Decode the input line by line, so a bad byte is reported on its own line, after the good ones."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise click.ClickException(
                f"line {number}: not valid UTF-8 (byte {exc.start + 1}: {exc.reason})"
            ) from exc
        yield number, line.removeprefix("\ufeff") if number == 1 else line


def body_of(number: int, line: str) -> str:
    """The `body` string of one JSON line, or an error that says which line and why."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise bad_line(number, f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise bad_line(number, f"got a JSON {type(record).__name__}")
    if "body" not in record:
        raise bad_line(number, "it has no \"body\" field")
    if not isinstance(record["body"], str):
        raise bad_line(number, f"\"body\" must be text, got {type(record['body']).__name__}")
    return record["body"]


def bad_line(number: int, why: str) -> click.ClickException:
    """The one error shape for an unusable JSON line, so scripts can match on it."""
    return click.ClickException(f'line {number}: expected a JSON object with a "body" field ({why})')


def open_analyzer(model_dir: Path | None) -> Analyzer:
    """Load (or first build) the model; a refused artifact is a one-line error with the fix."""
    try:
        return load_analyzer(model_dir, train_if_missing=True)
    except topic_model.ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@model_dir_option
@click.option("--plain", is_flag=True, help="Input is plain text, one comment per line.")
@click.argument("source", type=click.File("rb"), default="-")
def predict(model_dir: Path | None, plain: bool, source: IO[bytes]) -> None:
    """Classify comments from SOURCE (a file, or - for stdin): one JSON line out per input.

    A bad line stops the run with an error naming it; every line before it has been written.
    """
    analyzer = open_analyzer(model_dir)
    pending: list[str] = []
    done = 0
    try:
        for body in read_bodies(source, plain):
            pending.append(body)
            if len(pending) == BATCH:
                batch, pending = pending, []
                done = write_results(analyzer, batch, done)
    except click.ClickException:
        if pending:
            write_results(analyzer, pending, done)
        raise
    if pending:
        write_results(analyzer, pending, done)


def write_results(analyzer: Analyzer, bodies: list[str], done: int) -> int:
    """Classify one batch, write its JSON lines in order and report progress; return the new total."""
    for analysis in analyzer.analyze_many(bodies):
        sys.stdout.write(json.dumps(analysis.as_dict()) + "\n")
    sys.stdout.flush()
    done += len(bodies)
    say(f"classified {done} comments")
    return done
