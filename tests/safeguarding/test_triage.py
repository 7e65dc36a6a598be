"""Safeguarding triage: disclosures are heard in children's own words, in every page language.

Two kinds of labelled sets live in tests/data/:
- ``triage_labelled.jsonl``: the first version's set; the lexicon was tuned on it.
- ``triage_heldout.jsonl``, ``triage_heldout_extra.jsonl``, ``triage_dev*.jsonl``: written
  by people who had not read the rules, before the rules changed; the rules were then
  improved on what they missed (general concepts, never one sentence).
- ``triage_final_blind.jsonl``, ``triage_blind_2026b.jsonl``: written the same way and never
  tuned on (only their totals are ever looked at).
Triage here is the lexicon with its statistical backstop (model.py), trained on the labelled
and ``triage_dev*`` sets only; test_triage_model.py checks the backstop itself.
Thresholds are what the triage measured, so a change that hears fewer children fails; the
goal (every disclosure, at most 20% false alarms) is in the README with the figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from participation.safeguarding.triage import (
    NOT_UNDERSTOOD,
    REASONS,
    Level,
    Triage,
    TriageResult,
    evaluate,
    triage,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def _rows(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


LABELLED = _rows("triage_labelled.jsonl")
HELD_OUT = _rows("triage_heldout.jsonl")


def test_held_out_set_is_broad_enough() -> None:
    disclosures = [r for r in HELD_OUT if r["level"] != "none"]
    harmless = [r for r in HELD_OUT if r["level"] == "none"]
    assert len(disclosures) >= 150
    assert len(harmless) >= 100
    assert sum(r["lang"] in ("ar", "ps") for r in HELD_OUT) >= 40
    assert {reason for r in disclosures for reason in r["reasons"]} == set(REASONS)


@pytest.mark.parametrize(
    "row", [r for r in LABELLED if r["level"] != "none"], ids=lambda r: r["text"][:40]
)
def test_every_labelled_disclosure_is_raised(row: dict[str, Any]) -> None:
    assert triage(row["text"]).level is not Level.NONE, row["text"]


def test_labelled_set_reasons_and_false_alarms() -> None:
    report = evaluate(LABELLED)
    assert report.right_reason >= 0.9 * report.disclosures
    assert report.false_alarm_rate <= 0.2


def test_held_out_set() -> None:
    report = evaluate(HELD_OUT)
    assert report.recall >= 0.97, report.format()
    assert report.false_alarm_rate <= 0.15, report.format()
    for language in ("ar", "ps", "other"):
        raised, total = report.by_language[language]
        assert raised >= 0.85 * total, report.format()


@pytest.mark.parametrize(
    ("name", "recall", "false_alarms"),
    [
        # Written blind for the ideas the rules were changed for, then tuned on by the
        # lexicon (never by the model): the model's backstop adds two false alarms here.
        ("triage_heldout_extra.jsonl", 0.98, 0.22),
        # Written blind as development sets; the lexicon was tuned on the first three, the
        # model trained on all four (its out-of-fold figures: test_triage_model.py).
        ("triage_dev.jsonl", 0.97, 0.2),
        ("triage_dev2.jsonl", 0.97, 0.2),  # the most indirect tellings
        ("triage_dev3.jsonl", 0.98, 0.2),  # many voices, few safeguarding words
        ("triage_dev4.jsonl", 0.95, 0.2),  # children's own words
        # Written blind and never tuned on: the honest figure (see the README).
        ("triage_final_blind.jsonl", 0.92, 0.2),
        # Written blind on 2026-12-01 and measured only by totals, before and after the
        # model: lexicon alone 119/168 (71%), with the model 153/168 (91%); 21/92 harmless
        # raised (23%), above the 20% goal, stated rather than tuned away.
        ("triage_blind_2026b.jsonl", 0.91, 0.23),
    ],
)
def test_other_labelled_sets(name: str, recall: float, false_alarms: float) -> None:
    report = evaluate(_rows(name))
    assert report.recall >= recall, report.format()
    assert report.false_alarm_rate <= false_alarms, report.format()


@pytest.mark.parametrize(
    "text",
    [
        "maths is killing me lol",
        "I could kill for a pizza",
        "dying of boredom",
        "I feel safe",
        "I don't feel unsafe",
        "nobody hurts me",
        "I'm not scared at home",
        "I'm going to die of embarrassment",
        "no one touches me, I'm fine",
        "my mum will kill me when she sees my room lol",
        "we learnt about county lines in PSHE",
        "I got a bruise at football training",
    ],
)
def test_idioms_and_negations_are_not_raised(text: str) -> None:
    assert triage(text).level is Level.NONE, triage(text).to_json()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I feel safe at school but at home he hits me", "physical_abuse"),
        ("maths is killing me lol and I want to kill myself", "suicide"),
        ("nobody knows he hits me", "physical_abuse"),
        ("I'm not scared at school. I don't feel safe at home", "unsafe_at_home"),
        ("I don't like it when he touches me", "sexual_abuse"),
        ("dad is ok when hes sober but when hes not he beats me", "physical_abuse"),
        ("if i dont do it he says hell hurt me", "physical_abuse"),
    ],
)
def test_negation_or_idiom_elsewhere_does_not_cancel_a_disclosure(text: str, reason: str) -> None:
    result = triage(text)
    assert result.level is not Level.NONE
    assert reason in result.reasons, result.to_json()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Composed from concepts: who, what, to whom; none of these sentences is listed.
        ("my foster mums boyfriend kicked my little sister", "physical_abuse"),
        ("the staff member strangled me", "physical_abuse"),
        ("my cousin makes me do stuff when nobody is home", "sexual_abuse"),
        ("there's no food in the cupboards and my carer is never there", "neglect"),
        ("my older mates want me to hold packages for them", "criminal_exploitation"),
        # Children's spelling: edit distance and sound.
        ("my stepdad pucnhes me", "physical_abuse"),
        ("i wanna kil my self tonite", "suicide"),
        ("he tuches me at nite", "sexual_abuse"),
        ("im so scaired of my uncel", "unsafe_at_home"),
    ],
)
def test_concepts_compose_and_spelling_is_tolerated(text: str, reason: str) -> None:
    result = triage(text)
    assert result.level is not Level.NONE, text
    assert reason in result.reasons, result.to_json()


def test_historic_abuse_is_a_concern() -> None:
    result = triage("my dad used to hit me when I was little")
    assert result.level is Level.CONCERN
    assert result.reasons == ("physical_abuse",)


@pytest.mark.parametrize(
    "text",
    [
        "ኣቦይ ይወቕዓኒ እዩ",  # Tigrinya
        "پدرم مرا کتک می زند و من می ترسم",  # Dari
        "Bavê min her roj li min dixe",  # Kurmanji
        "Ojczym mnie bije, kiedy mama jest w pracy",  # Polish
        "Мне страшно дома",  # Russian
    ],
)
def test_text_the_triage_cannot_read_goes_to_a_person(text: str) -> None:
    result = triage(text)
    assert result.level is not Level.NONE
    assert NOT_UNDERSTOOD in result.reasons


def test_english_is_understood() -> None:
    assert NOT_UNDERSTOOD not in triage("i like my new school and my friends").reasons
    assert triage("can we have better wifi in the home pls").level is Level.NONE


@pytest.mark.parametrize(
    "text",
    [
        "أبي يضربني عندما يغضب",
        "ابي يضربني عندما يغضب",
        "أَبِي يَضْرِبُنِي عِنْدَمَا يَغْضَبُ",
        "أبـــي يضـــربني",
    ],
)
def test_arabic_spelling_variants_are_one_disclosure(text: str) -> None:
    result = triage(text)
    assert result.level is not Level.NONE, text
    assert "physical_abuse" in result.reasons
    assert NOT_UNDERSTOOD not in result.reasons


@pytest.mark.parametrize(
    "text",
    ["زما پلار ما وهي", "زما پلار ما وهی", "پلار مې هره ورځ وهي"],
)
def test_pashto_disclosure_is_heard(text: str) -> None:
    result = triage(text)
    assert result.level is not Level.NONE, text
    assert "physical_abuse" in result.reasons


def test_harmless_arabic_and_pashto_are_not_raised() -> None:
    assert triage("أحب كرة القدم والمدرسة").level is Level.NONE
    assert triage("زه فوټبال خوښوم او ښوونځی ښه دی").level is Level.NONE


def test_evidence_and_json() -> None:
    result = triage("My Step Dad BEATS me")
    assert result.level is Level.URGENT
    assert result.reasons[0] == "physical_abuse"
    assert any("BEATS" in quote for quote in result.evidence)
    assert result.to_json()["level"] == "urgent"


def test_levels_are_ordered() -> None:
    assert Level.NONE < Level.CONCERN < Level.URGENT
    assert max(Level.CONCERN, Level.URGENT, Level.NONE) is Level.URGENT
    assert [lvl.rank for lvl in Level] == [0, 1, 2]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "🙂🙂", "...!!!"])
def test_empty_input_is_none(text: str) -> None:
    assert triage(text) == TriageResult(Level.NONE, (), ())


def test_huge_input_still_finds_a_buried_disclosure() -> None:
    filler = "school was ok today and we had pasta for lunch. " * 4_000
    result = triage(filler + "he hits me every night. " + filler)
    assert result.level is Level.URGENT
    assert "physical_abuse" in result.reasons
    assert triage(filler).level is Level.NONE


def test_load_rejects_unknown_reason(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("reasons:\n  sadness:\n    - {need: [FEAR], level: concern}\n")
    with pytest.raises(ValueError, match="sadness"):
        Triage.load(rules)


def test_load_rejects_a_bad_requirement(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("reasons:\n  neglect:\n    - {need: [NEED, 'lack<'], level: concern}\n")
    with pytest.raises(ValueError, match="requirement"):
        Triage.load(rules)


def test_pashto_from_is_not_a_negation() -> None:
    # "له کور نه ویریږم": I am afraid of home. The "نه" of "له ... نه" means "from".
    assert triage("زه له کور نه ویریږم").level is not Level.NONE
    assert triage("زه نه ویریږم").level is Level.NONE  # "I am not afraid"


def test_words_in_an_unreadable_script_inside_english_go_to_a_person() -> None:
    result = triage("my foster dad ይወቕዓኒ every day")
    assert NOT_UNDERSTOOD in result.reasons


def test_invisible_characters_and_emoji_do_not_hide_a_disclosure() -> None:
    assert triage("i want to kill\u200b myself").level is Level.URGENT
    assert triage("i want to k\u00adill myself").level is Level.URGENT
    assert triage("🔪🩸😭").level is not Level.NONE


def test_a_pashto_word_is_not_read_as_arabic() -> None:
    # "مهربانه" (kind) holds the Arabic "مهرب" (smuggler).
    assert triage("زما مور ډېره مهربانه ده").level is Level.NONE


def test_a_repeated_key_in_a_lexicon_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("reasons:\n  neglect: []\n")
    (tmp_path / "en.yaml").write_text("concepts:\n  FEAR: [scared]\n  FEAR: [afraid]\n")
    with pytest.raises(ValueError, match="FEAR"):
        Triage.load(rules)
