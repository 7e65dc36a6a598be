"""The statistical backstop of triage (model.py): a second opinion when no rule fires.

It is trained only on the labelled and development sets (scripts/train_triage_model.py),
its threshold chosen by cross-validation; the figures it was chosen by are stored in the
model file and checked here, so a retrained model that hears fewer children fails.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from participation.safeguarding.model import MODEL_PATH, DisclosureModel, features
from participation.safeguarding.triage import POSSIBLE_DISCLOSURE, Level, Triage, triage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lexicon_alone() -> Triage:
    return Triage.load(with_model=False)


@pytest.fixture(scope="module")
def stored() -> dict:
    with MODEL_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def _training_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "train_triage_model", ROOT / "scripts" / "train_triage_model.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_triage_model", module)
    spec.loader.exec_module(module)
    return module


def test_the_model_is_plain_json_trained_only_on_development_data(stored: dict) -> None:
    assert MODEL_PATH.suffix == ".json"
    assert 0.5 < stored["threshold"] < 1.0
    assert stored["trained_on"], "trained on nothing"
    for name in stored["trained_on"]:
        assert "heldout" not in name and "blind" not in name, name
    assert all(isinstance(w, float) for w in list(stored["weights"].values())[:100])


def test_the_model_was_built_from_the_lexicon_and_data_in_the_repository(stored: dict) -> None:
    # The model reads through the lexicon: after a change to concepts/ or to a training set,
    # run `.venv/bin/python scripts/train_triage_model.py` and commit the new file.
    train = _training_script()
    assert stored["built_from_sha256"] == train.fingerprint(stored["trained_on"])


def test_cross_validated_figures_do_not_regress(stored: dict) -> None:
    # Out of fold: every text scored by a model that never saw it.
    cv = stored["cross_validation"]["all"]
    assert cv["false_alarms"] <= 0.15 * cv["harmless"], cv
    assert cv["raised"] >= 0.975 * cv["disclosures"], cv
    # The backstop hears at least two in five of what the lexicon missed...
    missed_by_lexicon = cv["disclosures"] - cv["raised_by_lexicon"]
    assert cv["raised"] - cv["raised_by_lexicon"] >= 0.4 * missed_by_lexicon, cv
    # ...for at most one harmless text in a hundred more.
    assert cv["false_alarms"] - cv["false_alarms_by_lexicon"] <= 0.01 * cv["harmless"], cv
    dev4 = stored["cross_validation"]["triage_dev4.jsonl"]  # children's own words
    assert dev4["raised"] >= 0.93 * dev4["disclosures"], dev4


@pytest.mark.parametrize(
    "text",
    [
        # None of these is in the training data, and no rule fires on them.
        "i keep my door shut so he cant get in",
        "i dont like bath time at my dads house",
        "they keep the money i earn at the car wash",
    ],
)
def test_the_model_raises_what_no_rule_names(lexicon_alone: Triage, text: str) -> None:
    assert lexicon_alone.assess(text).level is Level.NONE
    result = triage(text)
    assert result.level is Level.CONCERN
    assert result.reasons == (POSSIBLE_DISCLOSURE,)
    # The evidence is the words that weighed most, quoted as the child wrote them.
    assert result.evidence
    assert all(quote in text for quote in result.evidence)
    assert not {"i", "my", "the", "at"} & {q.lower() for q in result.evidence}


@pytest.mark.parametrize(
    "text",
    [
        "I could kill for a pizza",
        "I'd kill for a pizza rn",
        "maths is killing me lol",
        "I don't feel unsafe",
        "nobody hurts me",
        "i am not scared of my foster dad",
        "I nearly died laughing at that video",
        "we learnt about county lines in PSHE",
        "I got a bruise at football training",
        "my mum will kill me when she sees my room lol",
        "i love my foster family they are the best",
        "can we have a pool table in the youth club",
    ],
)
def test_the_model_does_not_undo_idioms_and_negations(text: str) -> None:
    assert triage(text).level is Level.NONE, triage(text).to_json()


def test_words_the_lexicon_discounted_are_not_read_by_the_model(lexicon_alone: Triage) -> None:
    _, reading = lexicon_alone.read("I could kill for a pizza")
    assert reading is not None
    kept = {surface for _, _, surface, _ in reading.kept_words()}
    assert "kill" not in kept
    assert not any(f.endswith("kill") for f in features(reading) if f.startswith("w="))
    _, reading = lexicon_alone.read("I don't feel unsafe")
    assert reading is not None
    assert "unsafe" not in {surface for _, _, surface, _ in reading.kept_words()}


def test_arabic_letter_variants_and_diacritics_read_the_same(lexicon_alone: Triage) -> None:
    model = DisclosureModel.load()
    assert model is not None
    scores = set()
    for text in ("أبي يضربني عندما يغضب", "ابي يضربني عندما يغضب", "أَبِي يَضْرِبُنِي عِنْدَمَا يَغْضَبُ"):
        _, reading = lexicon_alone.read(text)
        assert reading is not None
        scores.add(round(model.score(reading), 6))
    assert len(scores) == 1


def test_text_not_understood_is_left_to_a_person_not_the_model(lexicon_alone: Triage) -> None:
    result, reading = lexicon_alone.read("Мне страшно дома")
    assert reading is None
    assert result.level is Level.CONCERN


def test_without_the_model_file_triage_is_the_lexicon_alone(tmp_path: Path) -> None:
    assert DisclosureModel.load(tmp_path / "missing.json") is None
    judge = Triage.load(with_model=False)
    assert judge.model is None
    assert judge.assess("i keep my door shut so he cant get in").level is Level.NONE


def test_the_score_is_deterministic_and_a_probability(lexicon_alone: Triage) -> None:
    model = DisclosureModel.load()
    assert model is not None
    _, reading = lexicon_alone.read("he comes in my room at nite and i pretend to be asleep")
    assert reading is not None
    first = model.score(reading)
    assert 0.0 <= first <= 1.0
    assert DisclosureModel.load().score(reading) == first  # type: ignore[union-attr]


def test_training_is_reproducible_and_refuses_the_measures() -> None:
    train = _training_script()
    with pytest.raises(SystemExit, match="measure"):
        train.load_examples(("triage_final_blind.jsonl",))
    examples = [e for e in train.load_examples(("triage_labelled.jsonl",)) if e.features]
    first = train.fit(examples, train.L2)
    second = train.fit(examples, train.L2)
    assert first[0] == second[0]
    assert first[2] == second[2]
    assert (first[1] == second[1]).all()
