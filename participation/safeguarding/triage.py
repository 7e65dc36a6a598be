"""Safeguarding triage: rate a child's free text as none, concern or urgent, with reasons.

Triage composes concepts rather than listing phrases. Each language file in ``concepts/``
says which words express each concept (who: the people around a child in care; what:
physical or sexual harm, threats, neglect; to whom: the child or someone close; how the
child feels: fear, not safe, not wanting to go back; self-harm and suicide as children say
them; exploitation, trafficking, harmful practices, domestic abuse, going missing).
``concepts/rules.yaml`` combines concepts found close together in one sentence into reasons
and levels, so "my uncle does stuff to me at nite" is WHO + SEXUAL + ME without anyone
having written that sentence down.

Spelling: a word that is not a real English word (symspellpy's dictionary) is read as the
concept word it is nearest to, by edit distance (rapidfuzz's optimal string alignment:
one edit for short words, two for longer ones) or by sound (jellyfish's metaphone), so
"tuches", "sucide" and "nite" need no entries. Text-speak is expanded first ("im gonna").

Languages: English, Arabic and Pashto are read (the languages the child pages offer); Arabic
script is folded (diacritics, letter variants) and affixes are stripped. Text mostly in a
script or language the triage cannot read is never "none": it raises a concern with the
reason ``not_understood`` so that a person reads it.

Missing a disclosure is far worse than a false alarm, so discounting is narrow and local:
an idiom discounts only the concepts inside its own words, a negation only the rule whose
anchor it governs in the same clause, and a past or resolved harm is lowered, not dropped,
unless the child says it is over and they are safe.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jellyfish
import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from participation.safeguarding.languages import (
    arabic_candidates,
    fold_arabic_script,
    is_english_word,
    other_arabic_script_language,
    pashto_candidates,
    script_counts,
)
from participation.safeguarding.model import DisclosureModel, Reading
from participation.text import Break, normalise_word, quote_spans, squeeze, stem, tokenise

__all__ = [
    "POSSIBLE_DISCLOSURE",
    "REASONS",
    "Evaluation",
    "Level",
    "Triage",
    "TriageResult",
    "evaluate",
    "triage",
]

CONCEPTS_DIR = Path(__file__).with_name("concepts")


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader when PyYAML has it (the language files are large), refusing a
    repeated key: YAML keeps only the last one, which would silently drop a concept's words."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"repeated keys in a triage lexicon: {repeated}")
        return super().construct_mapping(node, deep=deep)


DEFAULT_LEXICON = CONCEPTS_DIR / "rules.yaml"
_MAX_EVIDENCE = 20
_DEFAULT_WINDOW = 8
_NEGATION_WINDOW = 3
# A text is read when at least this share of its words are words of a language we read.
_UNDERSTOOD_SHARE = 0.6
_UNDERSTOOD_SHARE_ARABIC_SCRIPT = 0.4
_PLAINLY_ENGLISH = 0.85
_UNREADABLE_LETTERS = 2
# Invisible characters that would split a word ("kill\u200bmyself") and emoji that carry
# the meaning on their own.
_INVISIBLE = re.compile("[\u00ad\u200b\u200d\u2060\ufeff]")
_EMOJI_WORDS = {"🔪": " knife ", "🩸": " blood ", "💊": " pills ", "🪢": " rope ", "⚰": " coffin "}
_EMOJI_RE = re.compile("|".join(map(re.escape, _EMOJI_WORDS)))

REASONS: tuple[str, ...] = (
    "self_harm",
    "suicide",
    "physical_abuse",
    "sexual_abuse",
    "emotional_abuse",
    "neglect",
    "criminal_exploitation",
    "sexual_exploitation",
    "online_grooming",
    "missing",
    "unsafe_at_home",
    "bullying",
    "domestic_abuse",
    "trafficking",
    "harmful_practices",
    "not_understood",
)
NOT_UNDERSTOOD = "not_understood"
# The reason given when no rule fired but the statistical model (model.py) heard a disclosure:
# "possible disclosure: a person must read it".
POSSIBLE_DISCLOSURE = "possible_disclosure"

# Words that say nothing about the language a text is in but are common in children's
# messages (laughter, reactions, text-speak not in a dictionary).
_NEUTRAL_WORDS = frozenset(
    {
        "lol",
        "lmao",
        "omg",
        "idk",
        "tbh",
        "ngl",
        "fr",
        "bruh",
        "ok",
        "okay",
        "pls",
        "plz",
        "thx",
        "ty",
        "xx",
        "xxx",
        "haha",
        "hahaha",
        "ya",
        "yh",
        "yeah",
        "nah",
        "tho",
        "cuz",
        "coz",
        "innit",
        "wiv",
        "dunno",
        "gonna",
        "wanna",
        "gotta",
        "im",
        "ive",
        "dont",
        "cant",
        "wont",
        "didnt",
        "isnt",
        "xbox",
        "ps4",
        "ps5",
        "tiktok",
        "snapchat",
        "insta",
        "wifi",
        "pe",
        "pep",
        "sw",
        "iro",
        "pa",
        "uasc",
    }
)


class Level(enum.Enum):
    """How soon a safeguarding lead must look: ordered NONE < CONCERN < URGENT."""

    NONE = "none"
    CONCERN = "concern"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for none, 1 for concern, 2 for urgent."""
        return _RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_RANK = {"none": 0, "concern": 1, "urgent": 2}


@dataclass(frozen=True)
class TriageResult:
    """The level, the reason codes (most serious first) and the words that fired."""

    level: Level
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"level": "urgent", "reasons": [...], "evidence": [...]}``."""
        return {
            "level": self.level.value,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
        }


_NOTHING = TriageResult(Level.NONE, (), ())


# ---------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True, slots=True)
class _Need:
    concepts: frozenset[str]
    side: str  # "<", ">" or "~"
    within: int


@dataclass(frozen=True, slots=True)
class _Rule:
    reason: str
    anchor: frozenset[str]
    needs: tuple[_Need, ...]
    level: Level
    on_negation: Level
    negation_applies: bool
    resolvable: bool
    unless: tuple[_Need, ...] = ()


_NEED_RE = re.compile(r"^([A-Z_|]+)(?:([<>~])(\d+))?$")


def _parse_need(spec: str) -> _Need:
    m = _NEED_RE.match(spec.strip())
    if not m:
        raise ValueError(f"bad rule requirement: {spec!r}")
    names, side, within = m.groups()
    return _Need(frozenset(names.split("|")), side or "~", int(within or _DEFAULT_WINDOW))


def _parse_rules(data: Mapping[str, Any]) -> tuple[_Rule, ...]:
    reasons = data.get("reasons") or {}
    unknown = set(reasons) - set(REASONS)
    if unknown:
        raise ValueError(f"unknown reason codes in lexicon: {sorted(unknown)}")
    rules = []
    for reason, specs in reasons.items():
        for spec in specs or []:
            needs = [_parse_need(str(n)) for n in spec["need"]]
            level = Level(spec.get("level", "concern"))
            rules.append(
                _Rule(
                    reason=reason,
                    anchor=needs[0].concepts,
                    needs=tuple(needs[1:]),
                    level=level,
                    on_negation=min(Level(spec.get("on_negation", "none")), level),
                    negation_applies=spec.get("negation", "applies") != "ignore",
                    resolvable=bool(spec.get("resolvable", False)),
                    unless=tuple(_parse_need(str(n)) for n in spec.get("unless") or ()),
                )
            )
    return tuple(rules)


# ---------------------------------------------------------------------------------------
# Concept lexicons


@dataclass(slots=True)
class _Position:
    """One word of the text as the lexicons see it."""

    keys: frozenset[str]
    token: int  # index into the tokenised text, for quoting
    sentence: int
    clause: int
    me: bool = False  # a first-person clitic was attached ("يضربني")


@dataclass(frozen=True, slots=True)
class _Occurrence:
    concept: str
    start: int
    end: int


@dataclass
class _Lexicon:
    """One language's words for each concept, compiled for matching."""

    language: str
    single: dict[str, set[str]] = field(default_factory=dict)
    # Phrases by their first and second words.
    phrases: dict[str, dict[str, list[tuple[tuple[str, ...], str]]]] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)  # every key used, for "is this language?"
    fuzzy_words: list[str] = field(default_factory=list)
    sounds: dict[str, str] = field(default_factory=dict)

    def add(self, concept: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        self.words.update(k for k in keys if k != "*")
        if len(keys) == 1:
            self.single.setdefault(keys[0], set()).add(concept)
        else:
            by_second = self.phrases.setdefault(keys[0], {})
            by_second.setdefault(keys[1], []).append((tuple(keys), concept))

    def occurrences(self, positions: Sequence[_Position]) -> list[_Occurrence]:
        found: list[_Occurrence] = []
        n = len(positions)
        single, phrases = self.single, self.phrases
        for i, pos in enumerate(positions):
            following = positions[i + 1].keys if i + 1 < n else frozenset()
            for key in pos.keys:
                for concept in single.get(key, ()):
                    found.append(_Occurrence(concept, i, i + 1))
                by_second = phrases.get(key)
                if not by_second:
                    continue
                for second in (*following, "*"):
                    for keys, concept in by_second.get(second, ()):
                        end = i + len(keys)
                        if end > n:
                            continue
                        sentence = pos.sentence
                        if all(
                            positions[i + j].sentence == sentence
                            and (k == "*" or k in positions[i + j].keys)
                            for j, k in enumerate(keys[1:], start=1)
                        ):
                            found.append(_Occurrence(concept, i, end))
            if pos.me:
                found.append(_Occurrence("ME", i, i + 1))
        return found


class _English:
    """English: text-speak aliases, light stemming and spelling tolerance."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.aliases: dict[str, list[str]] = {
            normalise_word(str(k)): [normalise_word(w) for w in str(v).split()]
            for k, v in (data.get("aliases") or {}).items()
        }
        self.lexicon = _Lexicon("en")
        for concept, entries in (data.get("concepts") or {}).items():
            for entry in entries or []:
                self.lexicon.add(concept, self.entry_keys(str(entry)))
        # Spelling tolerance is only for words long enough to carry meaning, matched against
        # the single words the concepts use (a phrase's own words included).
        norms = {
            normalise_word(w)
            for entries in (data.get("concepts") or {}).values()
            for entry in entries or []
            for w in str(entry).split()
            if w != "*"
        }
        self.lexicon.fuzzy_words = sorted(w for w in norms if len(w) >= 4 and w.isalpha())
        for w in self.lexicon.fuzzy_words:
            self.lexicon.sounds.setdefault(jellyfish.metaphone(w), w)
        self._neutral = frozenset(self.aliases) | _NEUTRAL_WORDS

    def expand(self, norm: str) -> list[str]:
        norm = squeeze(norm)
        return self.aliases.get(norm, [norm])

    @functools.lru_cache(maxsize=100_000)  # noqa: B019 - one instance per process
    def word(self, norm: str) -> tuple[bool, bool, tuple[tuple[str, frozenset[str]], ...]] | None:
        """For a word of the text: whether it counts as a word, whether it is English, and
        its parts after text-speak expansion with their keys. None if not Latin script."""
        if _is_arabic(norm) or not _is_latin(norm):
            return None
        is_word = norm.isalpha() and len(norm) >= 2
        is_known = is_word and self.known(squeeze(norm))
        if norm not in self.aliases and _LEET_WORD.fullmatch(norm):
            norm = norm.translate(_LEET)  # "t0uches", "h1ts": digits standing for letters
        return is_word, is_known, tuple((p, self.keys_for(p)) for p in self.expand(norm))

    def entry_keys(self, entry: str) -> list[str]:
        out: list[str] = []
        for raw in entry.split():
            if raw == "*":
                out.append("*")
                continue
            out.extend(stem(w) for w in self.expand(normalise_word(raw)))
        return out

    @functools.lru_cache(maxsize=100_000)  # noqa: B019 - one instance per process
    def keys_for(self, norm: str) -> frozenset[str]:
        """The key of a word, and the concept word it is a misspelling of, if any."""
        key = stem(norm)
        keys = {key}
        if (
            len(norm) >= 4
            and norm.isalpha()
            and key not in self.lexicon.words
            and not is_english_word(norm)
        ):
            corrected = self._nearest(norm)
            if corrected:
                keys.add(stem(corrected))
        return frozenset(keys)

    def _nearest(self, norm: str) -> str | None:
        limit = 1 if len(norm) <= 6 else 2
        best = process.extractOne(
            norm, self.lexicon.fuzzy_words, scorer=OSA.distance, score_cutoff=limit
        )
        if best is not None and best[0][0] == norm[0]:
            return str(best[0])
        sound = self.lexicon.sounds.get(jellyfish.metaphone(norm))
        if sound and sound[0] == norm[0] and abs(len(sound) - len(norm)) <= 2:
            return sound
        return None

    def known(self, norm: str) -> bool:
        """Whether a word is English (or text-speak, or a concept word, or a misspelling)."""
        if not norm.isalpha() or norm in self._neutral or is_english_word(norm):
            return True
        # A concept word, but not a guessed correction: foreign words are often one edit
        # away from an English one.
        return stem(norm) in self.lexicon.words


class _ArabicScript:
    """Arabic or Pashto: folded letters, affixes stripped, entries as stems."""

    def __init__(self, data: Mapping[str, Any], language: str) -> None:
        self.language = language
        self.candidates = arabic_candidates if language == "ar" else pashto_candidates
        self.lexicon = _Lexicon(language)
        self.common: set[str] = set()
        for concept, entries in (data.get("concepts") or {}).items():
            for entry in entries or []:
                keys = [fold_arabic_script(w) for w in str(entry).split()]
                if concept == "COMMON":
                    self.common.update(keys)
                else:
                    self.lexicon.add(concept, keys)
        self.latin: _English | None = None
        if data.get("concepts_latin"):
            self.latin = _English({"concepts": data["concepts_latin"]})

    def keys_for(self, word: str) -> tuple[frozenset[str], bool]:
        return self.candidates(word)

    def latin_known(self, tokens: Sequence[Any]) -> int:
        """Words of the text that this language's Latin spelling list knows."""
        if self.latin is None:
            return 0
        words = self.latin.lexicon.words
        return sum(
            1 for t in tokens if t.norm.isalpha() and len(t.norm) >= 2 and stem(t.norm) in words
        )

    def known(self, word: str) -> bool:
        stems, _ = self.candidates(word)
        return any(s in self.lexicon.words or s in self.common for s in stems)


# ---------------------------------------------------------------------------------------
# The triage


@dataclass(frozen=True, slots=True)
class _Hit:
    reason: str
    level: Level
    start: int
    end: int


class Triage:
    """Assesses free text against compiled concept lexicons and rules. Build once, reuse."""

    def __init__(
        self,
        rules: Mapping[str, Any],
        languages: Mapping[str, Mapping[str, Any]],
        model: DisclosureModel | None = None,
    ) -> None:
        self._rules = _parse_rules(rules)
        self.model = model
        # Rules by the concepts that can anchor them, in file order: a text only meets the
        # rules whose anchor it holds.
        self._rules_by_anchor: dict[str, list[tuple[int, _Rule]]] = {}
        for order, rule in enumerate(self._rules):
            for concept in rule.anchor:
                self._rules_by_anchor.setdefault(concept, []).append((order, rule))
        self._english = _English(languages.get("en") or {})
        self._arabic_script = [
            _ArabicScript(languages[lang], lang) for lang in ("ar", "ps") if lang in languages
        ]
        scope_words = (languages.get("en") or {}).get("concepts", {}).get("SCOPE_STOP", [])
        self._scope_stops = frozenset(
            k for w in scope_words for k in self._english.entry_keys(str(w))
        )

    @classmethod
    def load(cls, path: Path | None = None, *, with_model: bool = True) -> Triage:
        """Read the rules (default ``concepts/rules.yaml``), the language files beside them
        and, unless ``with_model`` is false, the statistical model (``triage_model.json``)."""
        rules_path = path or DEFAULT_LEXICON
        with rules_path.open(encoding="utf-8") as fh:
            rules = yaml.load(fh, Loader=_YamlLoader) or {}  # noqa: S506 - a safe loader
        languages = {}
        for lang in ("en", "ar", "ps"):
            lang_path = rules_path.with_name(f"{lang}.yaml")
            if lang_path.exists():
                with lang_path.open(encoding="utf-8") as fh:
                    languages[lang] = yaml.load(fh, Loader=_YamlLoader) or {}  # noqa: S506 - a safe loader
        return cls(rules, languages, DisclosureModel.load() if with_model else None)

    # -- reading the text ---------------------------------------------------------------

    def assess(self, text: str) -> TriageResult:
        """Rate ``text``; never raises on odd input (empty, emoji, very long).

        The lexicon's rules decide first; when they find nothing, the model's opinion is asked
        and a score over its threshold raises a concern (``possible_disclosure``) with the
        words that weighed most as evidence."""
        result, reading, text, tokens = self._read(text)
        if result.level is not Level.NONE or reading is None or self.model is None:
            return result
        score, by_word = self.model.weigh(reading)
        if score < self.model.threshold:
            return result
        spans = [(t, t + 1) for t in self.model.evidence(by_word)]
        evidence = quote_spans(text, tokens, spans, _MAX_EVIDENCE) if spans else (text[:200],)
        return TriageResult(Level.CONCERN, (POSSIBLE_DISCLOSURE,), evidence)

    def read(self, text: str) -> tuple[TriageResult, Reading | None]:
        """The lexicon's rating alone and what it read, for the model (None when there is
        nothing to read, or the text is not understood and so already goes to a person)."""
        result, reading, _, _ = self._read(text)
        return result, reading

    def _read(self, text: str) -> tuple[TriageResult, Reading | None, str, list[Any]]:
        if not text or not text.strip():
            return _NOTHING, None, text, []
        text = _readable(text)
        counts = script_counts(text)
        if not counts:
            return _NOTHING, None, text, []
        other_language = False
        if counts["arabic"]:
            # Urdu and Sorani letters are folded away below, so look for them first.
            other_language = other_arabic_script_language(text, [])
            text = fold_arabic_script(text)
        tokens = tokenise(text)
        if not tokens:
            return _NOTHING, None, text, []
        reading = Reading(tokens)

        hits: list[_Hit] = []
        # Words in a script the triage cannot read (Ge'ez, Cyrillic...) go to a person, even
        # inside an English sentence: they may be the part that matters.
        understood = counts["other"] < _UNREADABLE_LETTERS
        latin_positions, latin_known, latin_words = self._latin_positions(tokens)
        if latin_positions:
            hits += self._apply(self._english.lexicon, latin_positions, reading)
            reading.positions.append(latin_positions)
            # Arabic typed in Latin letters ("abi yadrubni") is read by the Arabic lists,
            # when the text is not plainly English.
            plainly_english = latin_known >= _PLAINLY_ENGLISH * latin_words
            for reader in self._arabic_script:
                if reader.latin and not plainly_english:
                    hits += self._apply(reader.latin.lexicon, latin_positions, reading)
                    latin_known = max(latin_known, reader.latin_known(tokens))
            understood = understood and _enough(latin_known, latin_words, _UNDERSTOOD_SHARE)
        arabic_tokens = (
            [i for i, t in enumerate(tokens) if _is_arabic(t.norm)] if counts["arabic"] else []
        )
        if arabic_tokens:
            known_by = [
                (sum(1 for i in arabic_tokens if reader.known(tokens[i].norm)), reader)
                for reader in self._arabic_script
            ]
            best_known = max((k for k, _ in known_by), default=0)
            for known, reader in known_by:
                # Arabic and Pashto share letters but not words: a Pashto word can be an
                # Arabic one ("مهربانه", kind, holds "مهرب", smuggler), so only the
                # language that recognises the text best (or as well) reads it.
                if known < best_known - 1:
                    continue
                positions = self._arabic_positions(tokens, arabic_tokens, reader)
                hits += self._apply(reader.lexicon, positions, reading)
                reading.positions.append(positions)
            words = [tokens[i].norm for i in arabic_tokens]
            understood = (
                understood
                and not other_language
                and not other_arabic_script_language("", words)
                # Affixes are stripped imperfectly, so fewer words need to be recognised.
                and _enough(best_known, len(words), _UNDERSTOOD_SHARE_ARABIC_SCRIPT)
            )
        if not understood:
            hits.append(_Hit(NOT_UNDERSTOOD, Level.CONCERN, 0, len(tokens)))
        return self._result(text, tokens, hits), reading if understood else None, text, tokens

    def _latin_positions(self, tokens: Sequence[Any]) -> tuple[list[_Position], int, int]:
        positions: list[_Position] = []
        sentence = clause = 0
        known = words = 0
        for i, token in enumerate(tokens):
            if token.break_before is Break.HARD:
                sentence += 1
                clause += 1
            elif token.break_before is Break.SOFT:
                clause += 1
            info = self._english.word(token.norm)
            if info is None:
                continue
            is_word, is_known, parts = info
            words += is_word
            known += is_known
            for part, keys in parts:
                if part in _CLAUSE_WORDS:
                    clause += 1
                positions.append(_Position(keys, i, sentence, clause))
        return positions, known, words

    def _arabic_positions(
        self, tokens: Sequence[Any], indices: Sequence[int], reader: _ArabicScript
    ) -> list[_Position]:
        positions = []
        sentence = clause = 0
        previous = -1
        for i in indices:
            for between in range(previous + 1, i + 1):
                brk = tokens[between].break_before
                if brk is Break.HARD:
                    sentence += 1
                    clause += 1
                elif brk is Break.SOFT:
                    clause += 1
            previous = i
            keys, me = reader.keys_for(tokens[i].norm)
            if (
                reader.language == "ps"
                and tokens[i].norm == "نه"
                and _after_circumposition(tokens, indices, i)
            ):
                keys = frozenset({"نه:from"})  # "له کور نه": from home, not a negation
            if tokens[i].norm in ("لکن", "بس", "خو", "ولي", "مگر", "اما"):
                clause += 1
            positions.append(_Position(keys, i, sentence, clause, me))
        return positions

    # -- applying the rules ---------------------------------------------------------------

    def _apply(
        self, lexicon: _Lexicon, positions: Sequence[_Position], reading: Reading
    ) -> list[_Hit]:
        """The rules' hits; ``reading`` gathers the concepts found and the words discounted."""
        if not positions:
            return []
        found = lexicon.occurrences(positions)
        idioms = [o for o in found if o.concept == "IDIOM"]
        covered: set[int] = set()
        for o in idioms:
            covered.update(range(o.start, o.end))
        discount = reading.discounted
        discount.update(positions[p].token for p in covered)
        by_concept: dict[str, list[_Occurrence]] = {}
        for o in found:
            if o.concept == "IDIOM":
                continue
            if o.concept not in _FUNCTION_CONCEPTS and any(
                p in covered for p in range(o.start, o.end)
            ):
                continue
            by_concept.setdefault(o.concept, []).append(o)
        conditional_ends = {o.end for o in by_concept.get("CONDITIONAL", ())}
        # "if I don't ..." states a condition, not that something does not happen.
        negators = [
            n
            for n in by_concept.get("NEGATOR", [])
            if not any(0 <= n.start - e <= 2 for e in conditional_ends)
        ]
        historic_sentences = {positions[o.start].sentence for o in by_concept.get("HISTORIC", [])}
        safe_now = bool(by_concept.get("SAFE_NOW"))
        found_concepts = reading.concepts
        for concept, occurrences in by_concept.items():
            for o in occurrences:
                negated = bool(negators) and self._negator(o, negators, positions) is not None
                found_concepts.append((concept, positions[o.start].sentence, negated))

        hits: list[_Hit] = []
        candidates = sorted(
            {
                (order, id(rule)): rule
                for concept in by_concept
                for order, rule in self._rules_by_anchor.get(concept, ())
            }.items()
        )
        for _, rule in candidates:
            anchors = [o for c in rule.anchor for o in by_concept.get(c, ())]
            for anchor in anchors:
                sentence = positions[anchor.start].sentence
                if not all(
                    _near(need, anchor, by_concept, positions, sentence) for need in rule.needs
                ):
                    continue
                anchor_tokens = {positions[p].token for p in range(anchor.start, anchor.end)}
                if any(
                    _near(need, anchor, by_concept, positions, sentence) for need in rule.unless
                ):
                    discount.update(anchor_tokens)  # an accident, a story: not harm
                    continue
                level = rule.level
                negator = (
                    self._negator(anchor, negators, positions) if rule.negation_applies else None
                )
                if negator is not None:
                    level = rule.on_negation
                if level is Level.NONE:
                    if negator is not None:
                        discount.update(anchor_tokens)
                        discount.update(
                            positions[p].token for p in range(negator.start, negator.end)
                        )
                    continue
                if rule.resolvable and safe_now:
                    discount.update(anchor_tokens)
                    continue
                if sentence in historic_sentences and level is Level.URGENT:
                    level = Level.CONCERN
                first = positions[anchor.start].token
                last = positions[anchor.end - 1].token
                hits.append(_Hit(rule.reason, level, first, last + 1))
        return hits

    def _negator(
        self,
        anchor: _Occurrence,
        negators: Sequence[_Occurrence],
        positions: Sequence[_Position],
    ) -> _Occurrence | None:
        """A negator a few words before the anchor, in its clause, with no scope stop between."""
        clause = positions[anchor.start].clause
        for n in negators:
            if n.end > anchor.start or anchor.start - n.end >= _NEGATION_WINDOW:
                continue
            if positions[n.start].clause != clause:
                continue
            between = positions[n.end : anchor.start]
            if any(p.keys & self._scope_stops for p in between):
                continue
            return n
        return None

    def _result(self, text: str, tokens: Sequence[Any], hits: Iterable[_Hit]) -> TriageResult:
        worst: dict[str, Level] = {}
        first_seen: dict[str, int] = {}
        spans = []
        for hit in hits:
            worst[hit.reason] = max(worst.get(hit.reason, Level.NONE), hit.level)
            first_seen[hit.reason] = min(first_seen.get(hit.reason, hit.start), hit.start)
            if hit.reason != NOT_UNDERSTOOD:
                spans.append((hit.start, hit.end))
        if not worst:
            return _NOTHING
        reasons = sorted(worst, key=lambda r: (-worst[r].rank, r == NOT_UNDERSTOOD, first_seen[r]))
        evidence = quote_spans(text, tokens, spans, _MAX_EVIDENCE)
        if not spans:
            evidence = (text[:200],)
        return TriageResult(max(worst.values()), tuple(reasons), evidence)


_ALONE = frozenset({"ALONE"})
# A word of letters with digits standing in for some of them (not "2nite": text-speak
# aliases are read first, and a word must hold at least two letters).
_LEET_WORD = re.compile(r"(?=(?:.*[a-z]){2})[a-z]*[013457@][a-z0-9@]*")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_CLAUSE_WORDS = frozenset({"but", "although", "though", "however", "except"})

# Concepts that qualify others rather than carry harm: an idiom does not hide them.
_FUNCTION_CONCEPTS = frozenset(
    {
        "NEGATOR",
        "HISTORIC",
        "SAFE_NOW",
        "SCOPE_STOP",
        "CONDITIONAL",
        "ACCIDENT",
        "ACCIDENT_SELF",
        "FICTION",
        "FASTING",
    }
)


def _near(
    need: _Need,
    anchor: _Occurrence,
    by_concept: Mapping[str, Sequence[_Occurrence]],
    positions: Sequence[_Position],
    sentence: int,
) -> bool:
    if need.concepts == _ALONE:
        # The whole text is the anchor, give or take a word ("cutting", "help me pls").
        return len(positions) <= (anchor.end - anchor.start) + 1
    for concept in need.concepts:
        for o in by_concept.get(concept, ()):
            if o is anchor or positions[o.start].sentence != sentence:
                continue
            overlaps = o.start < anchor.end and anchor.start < o.end
            if overlaps and (o.start, o.end) != (anchor.start, anchor.end):
                return True
            if need.side in "<~" and o.end <= anchor.start and anchor.start - o.end < need.within:
                return True
            if need.side in ">~" and o.start >= anchor.end and o.start - anchor.end < need.within:
                return True
            if overlaps and o.concept != anchor.concept:
                return True
    return False


def _readable(text: str) -> str:
    """Drop invisible characters inside words and spell out emoji that carry harm."""
    text = _INVISIBLE.sub("", text)
    return _EMOJI_RE.sub(lambda m: _EMOJI_WORDS[m.group()], text)


def _enough(known: int, words: int, share: float) -> bool:
    """Whether enough words were recognised to say the text was read (short texts: any)."""
    return words == 0 or known >= share * words or (words < 3 and known > 0)


def _after_circumposition(tokens: Sequence[Any], indices: Sequence[int], i: int) -> bool:
    """Whether a Pashto "نه" closes "له ... نه" / "د ... نه" (from, than) in its clause."""
    at = list(indices).index(i)
    for j in reversed(indices[max(0, at - 3) : at]):
        if tokens[j].norm in ("له", "د"):
            return True
        if tokens[j].break_before is not Break.NONE:
            break
    return False


def _is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in word)


def _is_latin(word: str) -> bool:
    return word.isascii() or all(ch.isascii() or ch <= "\u024f" for ch in word)


@functools.cache
def _default() -> Triage:
    return Triage.load()


def triage(text: str) -> TriageResult:
    """Assess ``text`` with the default lexicons (compiled once, on first use)."""
    return _default().assess(text)


@dataclass(frozen=True)
class Evaluation:
    """How triage did on a labelled set: disclosures raised, right reasons, false alarms."""

    disclosures: int
    raised: int
    right_reason: int
    harmless: int
    false_alarms: int
    # Not in the repr: a failing test must not print the texts of a set that is never read.
    missed: tuple[str, ...] = field(repr=False)
    by_language: Mapping[str, tuple[int, int]]  # language -> (raised, disclosures)

    @property
    def recall(self) -> float:
        return self.raised / self.disclosures if self.disclosures else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.harmless if self.harmless else 0.0

    def format(self) -> str:
        """A short report for the command line."""
        langs = ", ".join(f"{k} {r}/{d}" for k, (r, d) in sorted(self.by_language.items()))
        return (
            f"disclosures raised: {self.raised}/{self.disclosures} ({self.recall:.1%}); "
            f"right reason among them: {self.right_reason}\n"
            f"by language: {langs}\n"
            f"harmless texts raised: {self.false_alarms}/{self.harmless} "
            f"({self.false_alarm_rate:.1%})"
        )


def evaluate(rows: Iterable[Mapping[str, Any]], judge: Triage | None = None) -> Evaluation:
    """Score labelled rows ``{"text", "level", "reasons", "lang"?}`` (level "none" = harmless)."""
    judge = judge or _default()
    disclosures = raised = right = harmless = alarms = 0
    missed: list[str] = []
    by_lang: dict[str, list[int]] = {}
    for row in rows:
        result = judge.assess(str(row["text"]))
        if row["level"] == "none":
            harmless += 1
            alarms += result.level is not Level.NONE
            continue
        disclosures += 1
        counts = by_lang.setdefault(str(row.get("lang", "en")), [0, 0])
        counts[1] += 1
        if result.level is Level.NONE:
            missed.append(str(row["text"]))
            continue
        raised += 1
        counts[0] += 1
        right += bool(set(row.get("reasons") or ()) & set(result.reasons))
    return Evaluation(
        disclosures,
        raised,
        right,
        harmless,
        alarms,
        tuple(missed),
        {k: (v[0], v[1]) for k, v in by_lang.items()},
    )
