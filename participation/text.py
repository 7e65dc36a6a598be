"""Text helpers shared by the recommendation tagger and the safeguarding triage.

Children write on phones, in text-speak and with their own spellings, so both classifiers
match a normalised, lightly stemmed form of each word against phrase patterns kept in data
files. This module holds the one copy of that machinery:

- ``tokenise`` splits text into words, remembering where each word sits in the original
  text (so that evidence can be quoted exactly as the child wrote it) and whether a
  sentence or clause break comes before it.
- ``stem`` is a small suffix stripper: it only needs to make "changes", "changing" and
  "changed" meet, not to be linguistically right.
- ``PhraseMatcher`` finds every occurrence of many word patterns in one pass, with
  spelling tolerance (edit distance 1 for longer words) through a symmetric-deletion index.
  The tagger uses it. Triage has its own concept matcher (``safeguarding/triage.py``):
  there a word can have several keys at once (the stems of an Arabic or Pashto word, a
  spelling correction), which these patterns do not express.

Pattern syntax, used by the tagger's vocabulary:

- words are normalised and stemmed like the text ("workers" matches "worker");
- ``<name>`` stands for any entry of the group ``name`` (entries may themselves be phrases);
- ``<name>?`` or ``word?`` is optional;
- ``*`` matches exactly one word of any kind, ``..`` skips up to ``max_gap`` words.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

__all__ = [
    "Break",
    "PhraseMatch",
    "PhraseMatcher",
    "Token",
    "normalise_word",
    "quote",
    "squeeze",
    "stem",
    "tokenise",
]

# A word is a run of letters/digits, possibly joined by an apostrophe or ampersand so that
# "don't", "sw's" and "b&b" stay one word. Underscores are not letters for our purposes.
_WORD_RE: Final = re.compile(r"[^\W_]+(?:['’‘`&][^\W_]+)*")
_APOSTROPHES: Final = str.maketrans("", "", "'’‘`")
_HARD_BREAK_RE: Final = re.compile(r"[.!?;\n…]")
_SOFT_BREAK_RE: Final = re.compile(r"[,:()\"“”]|\s[-–—]\s|[–—]")
_REPEAT_RE: Final = re.compile(r"(.)\1{2,}")
_ANY_REPEAT_RE: Final = re.compile(r"(.)\1+")
_VOWELS: Final = frozenset("aeiouy")
# Doubled final consonants that a suffix leaves behind ("getting" -> "gett" -> "get").
# l, s and z stay doubled because "tell", "miss" and "buzz" are words in their own right.
_UNDOUBLE: Final = frozenset("bcdfgkmnprtv")


class Break(IntEnum):
    """What separates a token from the one before it."""

    NONE = 0
    SOFT = 1  # comma, colon, bracket, dash: a new clause but the same sentence
    HARD = 2  # full stop, question mark, exclamation, semicolon, new line


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its normalised form, its stem and where it sits in the text."""

    norm: str
    key: str
    start: int
    end: int
    break_before: Break


def normalise_word(word: str) -> str:
    """Return ``word`` in the form used for matching: NFKC, case-folded, no apostrophes."""
    return unicodedata.normalize("NFKC", word).casefold().translate(_APOSTROPHES)


def squeeze(word: str, keep: int = 2) -> str:
    """Collapse runs of one letter: to two with ``keep=2`` ("sooooo" -> "soo"), else to one.

    ``keep=2`` only touches runs of three or more, which English never has, so it is always
    safe; ``keep=1`` also squashes honest doubles and is only used as a fallback lookup.
    """
    if keep >= 2:
        return _REPEAT_RE.sub(r"\1\1", word)
    return _ANY_REPEAT_RE.sub(r"\1", word)


def stem(word: str) -> str:
    """Strip common English inflections so that forms of a word share one key.

    Deliberately light (plural, -ing, -ed, -ies, final -e): heavier stemming conflates
    words children use differently ("careers" and "carers" must stay apart).
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    w = word
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ing") and len(w) >= 6:
        w = _restore(w[:-3])
    elif w.endswith("ed") and len(w) >= 5 and not w.endswith("eed"):
        w = _restore(w[:-2])
    elif w.endswith("es") and len(w) >= 5 and w[-3] in "sxz":
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) >= 4:
        w = w[:-1]
    # A final e is dropped so that "change" meets "chang(ing)", but never from a
    # four-letter word: "care" must not become "car".
    if w.endswith("e") and len(w) >= 5 and not w.endswith(("ee", "ie", "ye")):
        w = w[:-1]
    return w


def _restore(w: str) -> str:
    """Tidy a stem left by -ing/-ed: "gett" -> "get", "car" (from caring) -> "care"."""
    if len(w) >= 3 and w[-1] == w[-2] and w[-1] in _UNDOUBLE:
        return w[:-1]
    if (
        len(w) == 3
        and w[0] not in _VOWELS
        and w[1] in _VOWELS
        and w[2] not in _VOWELS
        and w[2] not in "wxy"
    ):
        return w + "e"
    return w


def tokenise(text: str) -> list[Token]:
    """Split ``text`` into tokens, keeping offsets into the original string."""
    tokens: list[Token] = []
    prev_end = 0
    for m in _WORD_RE.finditer(text):
        gap = text[prev_end : m.start()]
        if not tokens:
            brk = Break.NONE
        elif _HARD_BREAK_RE.search(gap):
            brk = Break.HARD
        elif _SOFT_BREAK_RE.search(gap):
            brk = Break.SOFT
        else:
            brk = Break.NONE
        norm = normalise_word(m.group())
        tokens.append(Token(norm, stem(norm), m.start(), m.end(), brk))
        prev_end = m.end()
    return tokens


def quote(text: str, tokens: Sequence[Token], start: int, end: int) -> str:
    """Return the original text covered by ``tokens[start:end]``, exactly as written."""
    return text[tokens[start].start : tokens[end - 1].end]


def quote_spans(
    text: str, tokens: Sequence[Token], spans: Iterable[tuple[int, int]], limit: int
) -> tuple[str, ...]:
    """Quote token spans in text order, merging overlaps, without repeats, at most ``limit``."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    quotes: list[str] = []
    for start, end in merged:
        q = quote(text, tokens, start, end)
        if q not in quotes:
            quotes.append(q)
        if len(quotes) == limit:
            break
    return tuple(quotes)


# Pattern elements. Literal elements are stem keys (str); these two sentinels are the
# wildcards. They are ints so they can never collide with a key.
_ANY: Final = 0
_GAP: Final = 1
_Element = str | int


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """One occurrence of a pattern: token indices ``[start, end)``."""

    pattern: int
    start: int
    end: int


class _Node:
    """A state of the pattern trie: expansions of many patterns share their prefixes."""

    __slots__ = ("any", "children", "ends", "gap")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.any: _Node | None = None
        self.gap: _Node | None = None
        self.ends: list[int] = []

    def step(self, element: _Element) -> _Node:
        if element == _ANY:
            self.any = self.any or _Node()
            return self.any
        if element == _GAP:
            self.gap = self.gap or _Node()
            return self.gap
        assert isinstance(element, str)
        return self.children.setdefault(element, _Node())


class PhraseMatcher:
    """Find many word patterns in a token list, tolerating children's spelling.

    Build once (it compiles every group expansion into one trie and precomputes a deletion
    index for spelling tolerance), then call ``find`` for each text: a walk of the trie
    from each word, costing a few dictionary look-ups per word.
    """

    def __init__(
        self,
        patterns: Sequence[str],
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        aliases: Mapping[str, str] | None = None,
        max_gap: int = 4,
        fuzzy_min_length: int = 6,
        not_typos: Iterable[str] = (),
    ) -> None:
        """Compile ``patterns`` (see the module docstring for the syntax).

        ``aliases`` maps a written word to the word it stands for ("nvr" -> "never");
        ``not_typos`` lists real words that must never be read as a misspelling of a
        vocabulary word ("career" is not a typo of "carer").
        """
        self.patterns: tuple[str, ...] = tuple(patterns)
        self._groups = {k.strip("<>"): tuple(str(e) for e in v) for k, v in (groups or {}).items()}
        self._aliases = {
            normalise_word(k): stem(normalise_word(v)) for k, v in (aliases or {}).items()
        }
        self._max_gap = max_gap
        self._fuzzy_min = fuzzy_min_length
        self._not_typos = frozenset(normalise_word(w) for w in not_typos)
        self._root = _Node()
        self._keys: set[str] = set()
        for index, pattern in enumerate(self.patterns):
            for elements in set(self._expand(pattern, depth=0)):
                if not elements:
                    continue
                if not isinstance(elements[0], str):
                    raise ValueError(f"pattern {pattern!r} must start with a word")
                node = self._root
                for element in elements:
                    node = node.step(element)
                    if isinstance(element, str):
                        self._keys.add(element)
                if index not in node.ends:
                    node.ends.append(index)
        self._keys.update(self._aliases.values())
        # Symmetric-deletion index: every key with one letter removed. Two words within
        # edit distance 1 (or one adjacent swap) share an entry here or with the key itself.
        self._deletions: dict[str, set[str]] = {}
        for key in self._keys:
            if len(key) >= self._fuzzy_min - 1 and key.isalpha():
                for d in _deletions(key):
                    self._deletions.setdefault(d, set()).add(key)
        self._cache: dict[str, frozenset[str]] = {}

    # -- compiling -------------------------------------------------------------------------

    def _expand(self, pattern: str, depth: int) -> Iterator[tuple[_Element, ...]]:
        if depth > 5:
            raise ValueError(f"groups nested too deeply near {pattern!r}")
        options: list[list[tuple[_Element, ...]]] = []
        for part in pattern.split():
            optional = part.endswith("?") and len(part) > 1
            if optional:
                part = part[:-1]
            if part == "*":
                alts: list[tuple[_Element, ...]] = [(_ANY,)]
            elif part == "..":
                alts = [(_GAP,)]
            elif part.startswith("<") and part.endswith(">"):
                name = part[1:-1]
                if name not in self._groups:
                    raise ValueError(f"unknown group <{name}> in {pattern!r}")
                alts = [e for entry in self._groups[name] for e in self._expand(entry, depth + 1)]
            else:
                alts = [tuple(t.key for t in tokenise(part))]
            if optional:
                alts.append(())
            options.append(alts)
        for combo in itertools.product(*options):
            yield tuple(e for piece in combo for e in piece)

    # -- matching --------------------------------------------------------------------------

    def keys_for(self, norm: str) -> frozenset[str]:
        """Every vocabulary key that the normalised word ``norm`` may stand for."""
        cached = self._cache.get(norm)
        if cached is not None:
            return cached
        keys = {stem(norm)}
        if norm in self._aliases:
            keys.add(self._aliases[norm])
        for variant in (squeeze(norm, 2), squeeze(norm, 1)):
            if variant != norm:
                keys.add(stem(variant))
        if norm.endswith("in") and len(norm) >= 5:
            keys.add(stem(norm + "g"))  # text-speak drops the g: "changin", "cuttin"
        known = keys & self._keys
        if (
            not known
            and len(norm) >= self._fuzzy_min
            and norm.isalpha()
            and norm not in self._not_typos
        ):
            known = self._fuzzy(stem(squeeze(norm, 2)))
        result = frozenset(known)
        if len(self._cache) < 100_000:  # bound memory on adversarial input
            self._cache[norm] = result
        return result

    def _fuzzy(self, word: str) -> set[str]:
        found: set[str] = set(self._deletions.get(word, ()))  # the child left a letter out
        for d in _deletions(word):
            if d in self._keys:  # the child added a letter
                found.add(d)
            found.update(self._deletions.get(d, ()))  # swapped or mistyped one letter
        # Children rarely get the first letter wrong, and requiring it halves the false hits.
        return {k for k in found if k[0] == word[0]}

    def find(self, tokens: Sequence[Token]) -> list[PhraseMatch]:
        """Return every pattern occurrence in ``tokens``, in order of start position.

        A pattern found more than once from the same start is reported once, with its
        shortest extent.
        """
        keys = [self.keys_for(t.norm) for t in tokens]
        n = len(tokens)
        found: list[PhraseMatch] = []
        for i in range(n):
            if not keys[i] or not any(k in self._root.children for k in keys[i]):
                continue
            ends: dict[int, int] = {}
            seen: set[tuple[int, int]] = set()
            stack: list[tuple[_Node, int]] = [(self._root, i)]
            while stack:
                node, t = stack.pop()
                if (id(node), t) in seen:
                    continue
                seen.add((id(node), t))
                for pattern in node.ends:
                    if pattern not in ends or t < ends[pattern]:
                        ends[pattern] = t
                if node.gap is not None:
                    # Skip 0..max_gap words, but never across a sentence break.
                    for skip in range(self._max_gap + 1):
                        stack.append((node.gap, t + skip))
                        if t + skip >= n or tokens[t + skip].break_before == Break.HARD:
                            break
                if t >= n or (t > i and tokens[t].break_before == Break.HARD):
                    continue
                for key in keys[t]:
                    child = node.children.get(key)
                    if child is not None:
                        stack.append((child, t + 1))
                if node.any is not None:
                    stack.append((node.any, t + 1))
            found.extend(PhraseMatch(p, i, end) for p, end in ends.items())
        return found


def _deletions(word: str) -> Iterator[str]:
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


class PatternIndex:
    """Numbers each distinct pattern once, in order of first use (call it with a pattern)."""

    def __init__(self) -> None:
        self.patterns: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, pattern: str) -> int:
        if pattern not in self._index:
            self._index[pattern] = len(self.patterns)
            self.patterns.append(pattern)
        return self._index[pattern]
