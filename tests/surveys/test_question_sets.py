"""The annual survey's question sets: complete, well-formed, linked to the catalogue, readable.

Pure data checks on the YAML files in surveys/question_sets/: no app, no database.

Readability uses textstat. textstat 0.7.13 counts English syllables with NLTK's CMU
dictionary, which it downloads from the internet on first use; tests must not reach the
network (CI and council networks are closed), so the module below makes textstat take the
path it already takes for words missing from that dictionary: Pyphen hyphenation. The
grades are then the same on every machine.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import textstat
import yaml
from textstat.backend.counts import _count_syllables

ROOT = Path(__file__).resolve().parents[2]
QUESTION_SETS = ROOT / "surveys" / "question_sets"
CATALOGUE = ROOT / "participation" / "recommendations" / "catalogue.yaml"

AGE_BANDS = {
    "ages-4-7": "4-7",
    "ages-8-11": "8-11",
    "ages-11-17": "11-17",
    "care-leavers-16-25": "16-25",
}
SET_KEYS = list(AGE_BANDS)

# What each band must give evidence on. Left out on purpose: for 4-7, reviews, challenge
# cards, the carer's part in the PEP and counting forms; PEPs and looked-after reviews end
# when a young person leaves care; only older sets ask who came to the UK alone.
EXPECTED_CODES = {
    "ages-4-7": {"PEP-CHILD-VOICE", "LESSON-TIME-MEETINGS", "VOICE-ACTED-ON", "WORKER-STABILITY"},
    "ages-8-11": {
        "PEP-CHILD-VOICE", "PEP-CARER-VOICE", "LESSON-TIME-MEETINGS", "REVIEWS-CHILD-LED",
        "VOICE-ACTED-ON", "SURVEY-BURDEN", "WORKER-STABILITY",
    },
    "ages-11-17": {
        "PEP-CHILD-VOICE", "PEP-CARER-VOICE", "PEP-TARGETS", "LESSON-TIME-MEETINGS",
        "REVIEWS-CHILD-LED", "VOICE-ACTED-ON", "SURVEY-BURDEN", "WORKER-STABILITY",
        "UASC-SUPPORT",
    },
    "care-leavers-16-25": {
        "CARE-LEAVER-SUPPORT", "HOMELESSNESS-16-17", "VOICE-ACTED-ON", "SURVEY-BURDEN",
        "WORKER-STABILITY", "UASC-SUPPORT",
    },
}  # fmt: skip

# Wellbeing questions carry no recommendation, so they are checked by key. Keys are stable
# forever: results are compared across years by them.
_WELLBEING = {"feel_safe", "trusted_adult", "happy_most_days", "things_you_enjoy", "see_family"}
EXPECTED_KEYS = {
    "ages-4-7": _WELLBEING | {"social_worker_contact", "missed_lessons", "anything_else"},
    "ages-8-11": _WELLBEING
    | {
        "social_worker_contact", "social_worker_changes", "pep_asked_views",
        "pep_hopes_written", "pep_carer_helped", "missed_lessons", "review_understand",
        "review_help_run", "adults_listen", "know_challenge_cards", "too_many_forms",
        "school_text", "anything_else",
    },
    "ages-11-17": _WELLBEING
    | {
        "feels_settled", "social_worker_contact", "social_worker_changes", "pep_asked_views",
        "pep_hopes_written", "pep_goals_clear", "pep_carer_helped", "missed_lessons",
        "review_understand", "review_help_run", "adults_listen", "know_challenge_cards",
        "too_many_forms", "came_alone", "interpreter_when_needed", "immigration_help",
        "english_lessons", "school_text", "anything_else",
    },
    "care-leavers-16-25": _WELLBEING
    | {
        "home_settled", "nowhere_to_stay_16_17", "help_16_17", "pathway_plan_have",
        "pathway_plan_helped", "pa_contact", "worker_changes", "money_enough", "know_grants",
        "ete_help", "safe_tonight", "adults_listen", "know_challenge_cards", "too_many_forms",
        "came_alone",
        "interpreter_when_needed", "immigration_help", "english_lessons",
        "change_one_thing", "anything_else",
    },
}  # fmt: skip

QUESTION_COUNT = {
    "ages-4-7": (8, 11),
    "ages-8-11": (14, 18),
    "ages-11-17": (18, 24),
    # 25: "somewhere safe to sleep tonight?" is asked only of those without a settled home.
    "care-leavers-16-25": (18, 25),
}
MAX_MEAN_GRADE = {"ages-4-7": 2.5, "ages-8-11": 4.0, "ages-11-17": 6.0, "care-leavers-16-25": 7.0}
MAX_GRADE_ABOVE_MEAN = 3.0
MAX_WORDS_PER_SENTENCE = {
    "ages-4-7": 10,
    "ages-8-11": 12,
    "ages-11-17": 15,
    "care-leavers-16-25": 15,
}
MAX_QUESTION_WORDS = {"ages-4-7": 12, "ages-8-11": 20, "ages-11-17": 20, "care-leavers-16-25": 20}

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
QUESTION_FIELDS = {
    "key", "kind", "text", "hint", "choices", "favourable", "recommendations", "show_if",
    "risk",
}  # fmt: skip
CHOICE_FIELDS = {"value", "label", "emoji"}
# Answers that say a question does not fit the child ("I don't go to school"): normal
# choices, never counted as favourable.
NOT_APPLICABLE = {"no_school", "not_for_me", "dont_need", "dont_know", "not_sure", "no_pa"}
# The app adds these to every question itself.
ADDED_BY_APP = {"i don't want to say", "skip", "prefer not to say"}


@cache
def load_set(key: str) -> dict[str, Any]:
    with (QUESTION_SETS / f"{key}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def catalogue_codes() -> frozenset[str]:
    with CATALOGUE.open(encoding="utf-8") as f:
        return frozenset(entry["code"] for entry in yaml.safe_load(f)["recommendations"])


def questions(key: str) -> list[dict[str, Any]]:
    return load_set(key)["questions"]


def choice_values(question: dict[str, Any]) -> list[Any]:
    return [choice["value"] for choice in question.get("choices", [])]


def translated_texts(key: str) -> Iterator[tuple[str, Any]]:
    """Every text a child reads, with where it is, as a {language: text} mapping."""
    qset = load_set(key)
    yield "title", qset["title"]
    for q in qset["questions"]:
        yield f"{q['key']}.text", q["text"]
        if "hint" in q:
            yield f"{q['key']}.hint", q["hint"]
        for choice in q.get("choices", []):
            yield f"{q['key']}.{choice['value']}", choice["label"]
    help_step = qset.get("help_step", {})
    for name, texts in help_step.items():
        if name == "phones":
            for phone in texts:
                yield f"help_step.phone {phone['number']}", phone["text"]
        elif name != "pictures":
            yield f"help_step.{name}", texts


def english_items(key: str) -> list[str]:
    """The English texts whose reading level is measured: each question and welcome line."""
    qset = load_set(key)
    return [q["text"]["en"] for q in qset["questions"]] + list(qset["welcome"]["en"])


@pytest.fixture(scope="module")
def offline_textstat() -> Iterator[Any]:
    # count_syllables falls back to Pyphen for any word the CMU dictionary lacks; with no
    # dictionary at all it does so for every word, and nothing is downloaded.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_count_syllables, "get_cmudict", lambda lang: None)
        yield textstat


def test_the_four_sets_exist_with_their_age_bands():
    files = {path.stem for path in QUESTION_SETS.glob("*.yaml")}
    assert files >= set(AGE_BANDS)
    for key, band in AGE_BANDS.items():
        qset = load_set(key)
        assert qset["key"] == key
        assert qset["age_band"] == band


@pytest.mark.parametrize("key", SET_KEYS)
def test_languages_are_declared_and_translations_await_review(key):
    qset = load_set(key)
    languages = qset["languages"]
    assert languages[0] == "en"
    assert len(set(languages)) == len(languages)
    assert set(qset["translation_status"]) == set(languages) - {"en"}
    assert set(qset["translation_status"].values()) <= {"awaiting-review", "reviewed"}


@pytest.mark.parametrize("key", SET_KEYS)
def test_every_text_is_written_in_every_language(key):
    qset = load_set(key)
    languages = set(qset["languages"])
    for where, texts in translated_texts(key):
        assert isinstance(texts, dict), where
        assert set(texts) == languages, where
        for language, text in texts.items():
            assert isinstance(text, str), (where, language)
            assert text.strip(), (where, language)
    welcome = qset["welcome"]
    assert set(welcome) == languages
    lengths = {language: len(lines) for language, lines in welcome.items()}
    assert len(set(lengths.values())) == 1, lengths
    assert lengths["en"] >= 4
    for language, lines in welcome.items():
        assert all(isinstance(line, str) and line.strip() for line in lines), language


@pytest.mark.parametrize("key", SET_KEYS)
def test_questions_are_well_formed(key):
    items = questions(key)
    low, high = QUESTION_COUNT[key]
    assert low <= len(items) <= high
    keys = [q["key"] for q in items]
    assert len(set(keys)) == len(keys)
    for q in items:
        assert isinstance(q["key"], str) and SNAKE_CASE.match(q["key"]), q["key"]
        assert set(q) <= QUESTION_FIELDS, q["key"]
        assert q["kind"] in {"choice", "text"}, q["key"]
        assert isinstance(q["recommendations"], list), q["key"]
        if q["kind"] == "text":
            assert "choices" not in q and "favourable" not in q, q["key"]


@pytest.mark.parametrize("key", SET_KEYS)
def test_choices_are_well_formed_and_favourable_answers_are_choices(key):
    for q in questions(key):
        if q["kind"] != "choice":
            continue
        choices = q["choices"]
        assert 2 <= len(choices) <= 5, q["key"]
        values = choice_values(q)
        # Unquoted yes/no would load as booleans: every value must stay a string.
        assert all(isinstance(v, str) and SNAKE_CASE.match(v) for v in values), q["key"]
        assert len(set(values)) == len(values), q["key"]
        for choice in choices:
            assert set(choice) <= CHOICE_FIELDS, (q["key"], choice["value"])
            assert choice["label"]["en"].strip().lower() not in ADDED_BY_APP
        favourable = q["favourable"]
        assert isinstance(favourable, list), q["key"]
        assert set(favourable) <= set(values), q["key"]
        assert not set(favourable) & NOT_APPLICABLE, q["key"]


@pytest.mark.parametrize("key", SET_KEYS)
def test_recommendation_codes_are_in_the_catalogue(key):
    codes = catalogue_codes()
    for q in questions(key):
        assert set(q["recommendations"]) <= codes, q["key"]
        assert len(set(q["recommendations"])) == len(q["recommendations"]), q["key"]


def test_every_answer_for_the_youngest_has_a_picture():
    for q in questions("ages-4-7"):
        for choice in q.get("choices", []):
            emoji = choice.get("emoji")
            assert isinstance(emoji, str) and emoji.strip(), (q["key"], choice["value"])
            assert not re.search(r"[A-Za-z0-9]", emoji), (q["key"], choice["value"])


@pytest.mark.parametrize("key", SET_KEYS)
def test_show_if_follows_an_earlier_choice_and_names_its_answers(key):
    earlier: dict[str, dict[str, Any]] = {}
    for q in questions(key):
        condition = q.get("show_if")
        if condition is not None:
            assert set(condition) == {"question", "in"}, q["key"]
            gate = earlier.get(condition["question"])
            assert gate is not None, f"{q['key']} depends on a question that is not before it"
            assert gate["kind"] == "choice", q["key"]
            assert condition["in"], q["key"]
            assert set(condition["in"]) <= set(choice_values(gate)), q["key"]
        earlier[q["key"]] = q


@pytest.mark.parametrize("key", SET_KEYS)
def test_each_set_covers_its_topics(key):
    items = questions(key)
    linked = {code for q in items for code in q["recommendations"]}
    assert linked >= EXPECTED_CODES[key], EXPECTED_CODES[key] - linked
    assert {q["key"] for q in items} >= EXPECTED_KEYS[key]
    assert any(q["kind"] == "text" for q in items)


@pytest.mark.parametrize("key", ["ages-11-17", "care-leavers-16-25"])
def test_asylum_questions_are_asked_only_of_those_who_came_alone(key):
    items = {q["key"]: q for q in questions(key)}
    gate = items["came_alone"]
    assert set(choice_values(gate)) == {"yes", "no"}
    assert gate["favourable"] == []
    asylum = [q for q in items.values() if "UASC-SUPPORT" in q["recommendations"]]
    assert len(asylum) >= 3
    for q in asylum:
        assert q.get("show_if") == {"question": "came_alone", "in": ["yes"]}, q["key"]


@pytest.mark.parametrize("key", SET_KEYS)
def test_english_is_plain_at_the_reading_age_of_the_band(key, offline_textstat):
    items = english_items(key)
    grades = {text: offline_textstat.flesch_kincaid_grade(text) for text in items}
    mean = statistics.mean(grades.values())
    assert mean <= MAX_MEAN_GRADE[key]
    too_hard = {t: g for t, g in grades.items() if g > mean + MAX_GRADE_ABOVE_MEAN}
    assert not too_hard, f"mean grade {mean:.2f}"
    words_per_sentence = offline_textstat.words_per_sentence(" ".join(items))
    assert words_per_sentence < MAX_WORDS_PER_SENTENCE[key]


@pytest.mark.parametrize("key", SET_KEYS)
def test_english_questions_are_short(key, offline_textstat):
    for q in questions(key):
        words = offline_textstat.lexicon_count(q["text"]["en"])
        assert words <= MAX_QUESTION_WORDS[key], q["text"]["en"]


# Risk answers and the help step after them ------------------------------------------------

# What each welcome must promise, word for word: it is what the risk marks make true.
WELCOME_PROMISES = {
    "ages-4-7": [
        "If you say you do not feel safe, we will ask you this:",
        "“Would you like someone to talk to you?”",
        "We ask this too if you have no grown-up to talk to.",
        "If you say yes, a grown-up who keeps children safe will be told.",
    ],
    "ages-8-11": [
        "If you tell us you do not feel safe, we will ask if you want someone to talk to you.",
        "We also ask if you tell us there is no adult you can talk to.",
        "If you say yes, a person who keeps children safe will be told.",
    ],
    "ages-11-17": [
        "If you tell us you do not feel safe, we will ask if you want someone to talk to you.",
        "We also ask if you tell us there is no adult you trust to talk to.",
        "If you say yes, a person who keeps young people safe will be told.",
    ],
    "care-leavers-16-25": [
        "If you tell us you do not feel safe, we will ask if you want someone to talk to you.",
        "We also ask if you tell us there is no one you trust to talk to.",
        "If you say yes, a person who keeps young people safe will be told.",
        "If you tell us you have nowhere safe to sleep tonight, that person is told straight away.",
    ],
}
MAX_HELP_STEP_WORDS = {"ages-4-7": 60, "ages-8-11": 90, "ages-11-17": 90, "care-leavers-16-25": 110}


def risk_marks(key: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (q["key"], value): mark
        for q in questions(key)
        for value, mark in (q.get("risk") or {}).items()
    }


def help_step_items(key: str) -> list[str]:
    """The English sentences of the help step after a risk answer."""
    help_step = load_set(key)["help_step"]
    names = ("title", "lead", "ask", "ask_hint", "told", "alerted", "carry_on")
    return [help_step[n]["en"] for n in names if n in help_step] + [
        phone["text"]["en"].format(number=phone["number"]) for phone in help_step["phones"]
    ]


@pytest.mark.parametrize("key", SET_KEYS)
def test_every_band_marks_not_feeling_safe_where_you_live_as_a_risk(key):
    marks = risk_marks(key)
    feel_safe = next(q for q in questions(key) if q["key"] == "feel_safe")
    assert feel_safe["text"]["en"] == "Do you feel safe where you live?"
    assert marks[("feel_safe", "no")]["strength"] in {"offer_help", "alert"}
    assert marks[("feel_safe", "no")]["reason"] == "unsafe_at_home"
    assert marks[("trusted_adult", "no")]["reason"] == "no_trusted_adult"
    for question, value in marks:
        gate = next(q for q in questions(key) if q["key"] == question)
        assert value not in gate["favourable"], (question, value)


def test_nowhere_safe_to_sleep_tonight_tells_the_lead_at_once():
    mark = risk_marks("care-leavers-16-25")[("safe_tonight", "no")]
    assert mark == {"strength": "alert", "reason": "nowhere_safe_tonight", "level": "urgent"}


@pytest.mark.parametrize("key", SET_KEYS)
def test_the_welcome_says_exactly_what_a_risk_answer_does(key):
    welcome = load_set(key)["welcome"]["en"]
    for line in WELCOME_PROMISES[key]:
        assert line in welcome
    strengths = {mark["strength"] for mark in risk_marks(key).values()}
    # A promise to tell someone at once is made only where an answer does so, and kept.
    assert ("alert" in strengths) == any("straight away" in line for line in welcome)
    assert not any("we will tell someone who can help" in line for line in welcome)


@pytest.mark.parametrize("key", SET_KEYS)
def test_the_help_step_is_short_and_plain_at_the_reading_age_of_the_band(key, offline_textstat):
    items = help_step_items(key)
    grades = [offline_textstat.flesch_kincaid_grade(text) for text in items]
    assert statistics.mean(grades) <= MAX_MEAN_GRADE[key]
    assert max(grades) <= MAX_MEAN_GRADE[key] + MAX_GRADE_ABOVE_MEAN
    assert sum(offline_textstat.lexicon_count(text) for text in items) <= MAX_HELP_STEP_WORDS[key]
    help_step = load_set(key)["help_step"]
    assert help_step["ask"]["en"] == "Would you like someone to talk to you?"
    assert (help_step["yes"]["en"], help_step["not_now"]["en"]) == ("Yes", "Not now")
    numbers = {phone["number"] for phone in help_step["phones"]}
    assert {"999", "0800 1111"} <= numbers


def test_the_youngest_help_step_is_pictures_and_few_words():
    help_step = load_set("ages-4-7")["help_step"]
    for name in ("title", "yes", "not_now", "told"):
        picture = help_step["pictures"][name]
        assert picture.strip() and not re.search(r"[A-Za-z0-9]", picture), name
    assert all(phone.get("emoji") for phone in help_step["phones"])
    for name in ("title", "lead", "ask", "ask_hint", "told"):
        assert len(help_step[name]["en"].split()) <= 13, name
