"""A second, statistical opinion on free text, as a recall backstop for the concept triage.

The lexicon hears what its concepts and rules name; a child who tells in other words, with
a spelling or a text-speak it has not met, can slip past every rule. This linear model reads
the same text as the lexicon did (text-speak expanded, spelling corrected towards concept
words, Arabic script folded and affixes stripped by ``languages.py``) and weighs:

- every word's keys (``w=``), pairs of neighbouring words (``b=``);
- the character n-grams of each word (``c=``, 3 to 5 letters inside "<word>"), which carry
  misspellings, text-speak and Arabic or Pashto affixes the stripper missed;
- the concepts the lexicon found (``k=``, or ``n=`` when a negator governs them) and pairs
  of concepts in one sentence (``kk=``), even when no rule joined them: "WHO and PHYSICAL too
  far apart" still counts, and concepts are the same in every language.

Words the lexicon discounted (an idiom, a negated or accidental harm, a harm the child says
is over) are left out, so the model cannot undo "I'd kill for a pizza".

The score is ``bias + sum(weights of the features found) / sqrt(number found)``, a logistic
regression over length-normalised counts. Weights live in ``triage_model.json`` beside this
file (plain JSON, never a pickle), rebuilt reproducibly by ``scripts/train_triage_model.py``,
which also chose the threshold by cross-validation. Inference is plain Python with a cache
per word, so it adds little to triage's cost.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["MODEL_PATH", "DisclosureModel", "Reading", "features"]

MODEL_PATH = Path(__file__).with_name("triage_model.json")
_CHAR_NGRAMS = (3, 4, 5)
_EVIDENCE_WORDS = 4
# Words that weigh in the sum (longer tellings hold more of them) but tell a lead nothing
# when quoted as evidence.
_FUNCTION_WORDS_TEXT = """
    a about after again all also am an and any are as at be been before being but by can could
    did do does dont for from get got had has have he her here hers him his how i if im in
    into is it its just like me more my no not now of off on one or our out over say says
    said she so some still than that thats the their them then there theres these they this
    those to too u up ur us very was we were what when where which who why will with would
    you your و في من على ان الى عن مع هو هي انا زه د په او چې له ته هم
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


class _Position(Protocol):
    token: int
    sentence: int
    keys: frozenset[str]


@dataclass
class Reading:
    """What the lexicon saw in a text, for the model: words and concepts it did not discount."""

    tokens: Sequence[Any] = ()
    # The lexicon's positions, per language read; words are gathered from them only when the
    # model is asked (most texts a rule raises never need them).
    positions: list[Sequence[_Position]] = field(default_factory=list)
    # (concept, sentence, negated)
    concepts: list[tuple[str, int, bool]] = field(default_factory=list)
    discounted: set[int] = field(default_factory=set)

    def words(self) -> dict[int, tuple[int, str, frozenset[str]]]:
        """Token index -> (sentence, surface form, keys): one entry per word of the text."""
        words: dict[int, tuple[int, str, frozenset[str]]] = {}
        for positions in self.positions:
            for pos in positions:
                entry = words.get(pos.token)
                if entry is None:
                    words[pos.token] = (pos.sentence, self.tokens[pos.token].norm, pos.keys)
                elif not pos.keys <= entry[2]:
                    words[pos.token] = (entry[0], entry[1], entry[2] | pos.keys)
        return words

    def kept_words(self) -> list[tuple[int, int, str, frozenset[str]]]:
        """(token, sentence, surface, keys) for the words not discounted, in text order."""
        discounted = self.discounted
        return [
            (token, sentence, surface, keys)
            for token, (sentence, surface, keys) in sorted(self.words().items())
            if token not in discounted
        ]


@functools.lru_cache(maxsize=200_000)
def word_features(surface: str, keys: frozenset[str]) -> tuple[str, ...]:
    """A word's own features: its keys and the character n-grams of its surface form."""
    out = [f"w={k}" for k in sorted(keys)]
    padded = f"<{surface}>"
    for n in _CHAR_NGRAMS:
        out.extend(f"c={padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return tuple(out)


def _context_features(
    words: Sequence[tuple[int, int, str, frozenset[str]]],
    concepts: Sequence[tuple[str, int, bool]],
) -> Iterator[str]:
    """Features that span words: neighbouring word pairs and the concepts found."""
    for (_, s1, w1, _), (_, s2, w2, _) in itertools.pairwise(words):
        if s1 == s2:
            yield f"b={w1} {w2}"
    by_sentence: dict[int, set[str]] = {}
    for concept, sentence, negated in concepts:
        name = f"n={concept}" if negated else f"k={concept}"
        by_sentence.setdefault(sentence, set()).add(name)
    seen: set[str] = set()
    for names in by_sentence.values():
        ordered = sorted(names)
        for i, a in enumerate(ordered):
            if a not in seen:
                seen.add(a)
                yield a
            for b in ordered[i + 1 :]:
                pair = f"kk={a[2:] if a[0] == 'k' else a}+{b[2:] if b[0] == 'k' else b}"
                if pair not in seen:
                    seen.add(pair)
                    yield pair


def features(reading: Reading) -> list[str]:
    """Every feature of a reading, with repeats (the training script counts them)."""
    words = reading.kept_words()
    out: list[str] = []
    for _, _, surface, keys in words:
        out.extend(word_features(surface, keys))
    out.extend(_context_features(words, reading.concepts))
    return out


class DisclosureModel:
    """Logistic regression weights over the features above; ``score`` is a probability."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.bias = float(data["bias"])
        self.threshold = float(data["threshold"])
        self.weights: dict[str, float] = {k: float(v) for k, v in data["weights"].items()}
        self._word = functools.lru_cache(maxsize=200_000)(self._word_uncached)

    @classmethod
    def load(cls, path: Path | None = None) -> DisclosureModel | None:
        """The stored model, or None when there is no file (triage then uses its lexicon alone)."""
        path = path or MODEL_PATH
        if not path.exists():
            return None
        with path.open(encoding="utf-8") as fh:
            return cls(json.load(fh))

    def _word_uncached(self, surface: str, keys: frozenset[str]) -> tuple[float, int]:
        feats = word_features(surface, keys)
        weights = self.weights
        return sum(weights.get(f, 0.0) for f in feats), len(feats)

    def weigh(self, reading: Reading) -> tuple[float, list[tuple[float, int]]]:
        """The probability of a disclosure and each kept content word's weight, as (weight,
        token): function words are summed but not offered as evidence."""
        words = reading.kept_words()
        total = 0.0
        count = 0
        by_word: list[tuple[float, int]] = []
        for token, _, surface, keys in words:
            weight, n = self._word(surface, keys)
            total += weight
            count += n
            if surface not in _FUNCTION_WORDS:
                by_word.append((weight, token))
        weights = self.weights
        for f in _context_features(words, reading.concepts):
            total += weights.get(f, 0.0)
            count += 1
        if not count:
            return 0.0, []
        z = self.bias + total / math.sqrt(count)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), by_word

    def score(self, reading: Reading) -> float:
        """The probability that the text is a disclosure."""
        return self.weigh(reading)[0]

    def evidence(self, by_word: Sequence[tuple[float, int]]) -> list[int]:
        """The tokens that weighed most towards a disclosure (a few, in text order)."""
        best = sorted((w for w in by_word if w[0] > 0), key=lambda w: (-w[0], w[1]))
        return sorted(token for _, token in best[:_EVIDENCE_WORDS])
