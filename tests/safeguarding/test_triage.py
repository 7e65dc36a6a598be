"""Safeguarding triage: every labelled disclosure is raised, few false alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from participation.safeguarding.triage import REASONS, Level, Triage, TriageResult, triage

DATA = Path(__file__).resolve().parent.parent / "data" / "triage_labelled.jsonl"


def _rows() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ROWS = _rows()
DISCLOSURES = [r for r in ROWS if r["level"] != "none"]
NON_DISCLOSURES = [r for r in ROWS if r["level"] == "none"]


def test_labelled_set_is_broad_enough() -> None:
    assert len(ROWS) >= 100
    assert len(DISCLOSURES) >= len(ROWS) / 2
    assert {reason for r in DISCLOSURES for reason in r["reasons"]} == set(REASONS)


@pytest.mark.parametrize("row", DISCLOSURES, ids=lambda r: r["text"][:40])
def test_every_disclosure_is_raised_with_its_reason(row: dict[str, Any]) -> None:
    result = triage(row["text"])
    assert result.level is not Level.NONE, row["text"]
    assert set(row["reasons"]) <= set(result.reasons), result.to_json()
    if row["level"] == "urgent":
        assert result.level is Level.URGENT, result.to_json()


def test_at_most_a_fifth_of_non_disclosures_are_raised() -> None:
    raised = [r["text"] for r in NON_DISCLOSURES if triage(r["text"]).level is not Level.NONE]
    assert len(raised) <= 0.2 * len(NON_DISCLOSURES), raised


@pytest.mark.parametrize(
    "text",
    [
        "maths is killing me lol",
        "I could kill for a pizza",
        "dying of boredom",
        "I feel safe",
        "nobody hurts me",
        "I'm not scared at home",
        "I'm going to die of embarrassment",
        "no one touches me, I'm fine",
    ],
)
def test_idioms_and_negations_are_not_raised(text: str) -> None:
    assert triage(text).level is Level.NONE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I feel safe at school but at home he hits me", "physical_abuse"),
        ("maths is killing me lol and I want to kill myself", "suicide"),
        ("nobody knows he hits me", "physical_abuse"),
        ("I'm not scared at school. I don't feel safe at home", "unsafe_at_home"),
        ("I don't like it when he touches me", "sexual_abuse"),
    ],
)
def test_negation_or_idiom_elsewhere_does_not_cancel_a_disclosure(text: str, reason: str) -> None:
    result = triage(text)
    assert result.level is Level.URGENT
    assert reason in result.reasons


def test_an_idiom_counts_only_as_a_whole() -> None:
    # "killing" alone is not the idiom "killing me"; "kill myself" is still a disclosure.
    assert triage("I am killing myself slowly with cutting").level is Level.URGENT


def test_historic_abuse_is_a_concern() -> None:
    result = triage("my dad used to hit me when I was little")
    assert result.level is Level.CONCERN
    assert result.reasons == ("physical_abuse",)


def test_evidence_and_json() -> None:
    result = triage("My Step Dad BEATS me")
    assert result.to_json() == {
        "level": "urgent",
        "reasons": ["physical_abuse"],
        "evidence": ["My Step Dad BEATS me"],
    }


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
    assert result.reasons == ("physical_abuse",)
    assert triage(filler).level is Level.NONE


def test_load_rejects_unknown_reason(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("reasons:\n  sadness:\n    concern: [sad]\n")
    with pytest.raises(ValueError, match="sadness"):
        Triage.load(lexicon)
