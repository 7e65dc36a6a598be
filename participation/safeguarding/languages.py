"""What triage needs to know about languages: scripts, letter variants, affixes, real words.

- ``fold_arabic_script`` removes diacritics and tatweel and folds letter variants that
  children type differently on different keyboards (Arabic alef forms, ta marbuta, alef
  maqsura; Pashto letters typed on a Persian or Arabic keyboard), so one lexicon entry meets
  every spelling.
- ``arabic_candidates`` and ``pashto_candidates`` strip clitics and affixes, giving the
  stems a lexicon entry can meet ("يضربني" -> "ضرب"), and say whether a first-person object
  or possessive was attached (the "me" of "he hits me").
- ``is_english_word`` asks symspellpy's English frequency dictionary (82,765 words, shipped
  inside the package, no network) whether a word is real English: a real word is never
  treated as a child's misspelling of a harm word ("bite" is not "bike").
- ``script_counts`` counts letters by script, to send text the triage cannot read to a person.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from collections import Counter
from typing import Final

_ARABIC_DIACRITICS: Final = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
_FOLD: Final = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ۍ": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ۀ": "ه",
        "ه": "ه",
        "ك": "ک",
        "گ": "ک",
        "ګ": "ک",
        "ټ": "ت",
        "ډ": "د",
        "ړ": "ر",
        "ږ": "ژ",
        "ښ": "ش",
        "ڼ": "ن",
        "ځ": "ز",
        "څ": "س",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
        "۰": "0",
        "۱": "1",
        "۲": "2",
        "۳": "3",
        "۴": "4",
        "۵": "5",
        "۶": "6",
        "۷": "7",
        "۸": "8",
        "۹": "9",
        "\u200c": " ",  # zero-width non-joiner: Persian and Pashto half-space
    }
)
_ASCII_LETTER: Final = re.compile(r"[A-Za-z]")
_REPEATS: Final = re.compile(r"([\u0600-\u06FF])\1{2,}")

_AR_PREFIXES: Final = tuple(
    sorted(
        {
            "و",
            "ف",
            "ب",
            "ل",
            "ک",
            "ال",
            "وال",
            "بال",
            "فال",
            "کال",
            "لل",
            "س",
            "وس",
            "ي",
            "ت",
            "ن",
            "ا",
            "وي",
            "ول",
            "فل",
            "سي",
            "ست",
            "سن",
            "بي",
            "بت",
            "بن",
            "ح",
            "حي",
            "رح",
            "هي",
            "عم",
            "ما",
            "وب",
            "يا",
        },
        key=len,
        reverse=True,
    )
)
_AR_SUFFIXES: Final = tuple(
    sorted(
        {
            "ني",
            "ي",
            "ک",
            "ه",
            "ها",
            "هم",
            "هن",
            "نا",
            "کم",
            "ون",
            "ين",
            "ات",
            "وا",
            "ان",
            "تين",
            "تني",
            "تها",
            "ته",
            "تي",
            "وني",
            "يني",
            "ش",
            "لي",
            "لک",
            "له",
            "لها",
            "ونا",
            "وه",
            "يه",
            "ت",
            "نی",
        },
        key=len,
        reverse=True,
    )
)
_AR_ME_SUFFIXES: Final = frozenset({"ني", "ي", "تني", "وني", "يني", "لي", "تي", "نا", "ونا"})

_PS_PREFIXES: Final = ("وه", "و", "نه", "را", "در", "ور", "مي", "بي")
_PS_SUFFIXES: Final = tuple(
    sorted(
        {
            "ي",
            "و",
            "ه",
            "کانو",
            "کان",
            "انو",
            "ان",
            "ونه",
            "وي",
            "يم",
            "ې",
            "ئ",
            "ل",
            "لي",
            "له",
            "لو",
            "م",
            "يد",
            "ست",
            "وم",
            "وو",
        },
        key=len,
        reverse=True,
    )
)


def fold_arabic_script(text: str) -> str:
    """Remove diacritics and tatweel, fold letter variants and digits, squeeze elongation."""
    text = _ARABIC_DIACRITICS.sub("", unicodedata.normalize("NFC", text))
    return _REPEATS.sub(r"\1", text.translate(_FOLD))


def _strip(word: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> set[str]:
    out = {word}
    heads = {word}
    for p in prefixes:
        if word.startswith(p) and len(word) - len(p) >= 2:
            heads.add(word[len(p) :])
    # Two prefixes at most ("وبال", "فسي").
    for h in list(heads):
        for p in prefixes:
            if h.startswith(p) and len(h) - len(p) >= 2:
                heads.add(h[len(p) :])
    out |= heads
    for h in heads:
        for s in suffixes:
            if h.endswith(s) and len(h) - len(s) >= 2:
                out.add(h[: -len(s)])
                rest = h[: -len(s)]
                for s2 in suffixes:
                    if rest.endswith(s2) and len(rest) - len(s2) >= 2:
                        out.add(rest[: -len(s2)])
    return out


@functools.lru_cache(maxsize=50_000)
def arabic_candidates(word: str) -> tuple[frozenset[str], bool]:
    """Stems a folded Arabic word may have, and whether "me"/"my" was attached to it."""
    me = any(word.endswith(s) and len(word) - len(s) >= 2 for s in _AR_ME_SUFFIXES)
    return frozenset(_strip(word, _AR_PREFIXES, _AR_SUFFIXES)), me


@functools.lru_cache(maxsize=50_000)
def pashto_candidates(word: str) -> tuple[frozenset[str], bool]:
    """Stems a folded Pashto word may have (Pashto marks "me" with separate clitics)."""
    return frozenset(_strip(word, _PS_PREFIXES, _PS_SUFFIXES)), False


def script_of(ch: str) -> str:
    """'latin', 'arabic' or 'other' for a letter."""
    if ch.isascii():
        return "latin"
    code = ord(ch)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


def script_counts(text: str) -> Counter[str]:
    """How many letters of each script the text has."""
    if text.isascii():
        # Only the share of other scripts matters: any ASCII letter will do.
        return Counter(latin=len(text)) if _ASCII_LETTER.search(text) else Counter()
    return Counter(script_of(ch) for ch in text if ch.isalpha())


@functools.cache
def _english_words() -> frozenset[str]:
    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        # The rarest entries are mostly misspellings and fragments themselves.
        if count and int(count) >= 20_000:
            words.add(word)
    return frozenset(words)


def is_english_word(word: str) -> bool:
    """Whether ``word`` (lower case) is a real English word."""
    return word in _english_words()


# Letters that Arabic and Pashto do not use but Urdu (ے ں ہ ھ ٹ ڈ ڑ) and Kurdish Sorani
# (ێ ۆ ڕ ڵ ە ڤ) do: a text with them is in a language the triage does not read.
_OTHER_ARABIC_SCRIPT_LETTERS: Final = frozenset("ےںہھٹڈڑێۆڕڵەڤ")
# Everyday words of Dari/Persian that Pashto does not use, and Pashto's own, folded.
_DARI_MARKERS: Final = frozenset(
    fold_arabic_script(w)
    for w in (
        "است",
        "هستم",
        "هستی",
        "هستند",
        "می",
        "نمی",
        "را",
        "مرا",
        "این",
        "آن",
        "برای",
        "نیست",
        "ندارم",
        "خودم",
        "چی",
        "چه",
        "میکنم",
        "میخواهم",
        "میخوام",
        "بسیار",
        "خیلی",
        "اینجا",
        "آنجا",
        "باید",
        "شد",
        "شده",
        "کرد",
        "کردم",
        "میزند",
        "میزنه",
        "میترسم",
        "دارم",
        "ام",
        "بود",
    )
)
_PASHTO_MARKERS: Final = frozenset(
    fold_arabic_script(w)
    for w in (
        "دی",
        "ده",
        "زه",
        "ته",
        "په",
        "چې",
        "دا",
        "کې",
        "لپاره",
        "یم",
        "شوم",
        "سره",
        "وي",
        "ډېر",
        "ډیر",
        "هم",
        "زما",
        "یې",
        "ولې",
        "څه",
    )
)


def other_arabic_script_language(text: str, words: list[str]) -> bool:
    """Whether Arabic-script text is Urdu, Kurdish or Dari rather than Arabic or Pashto."""
    if any(ch in _OTHER_ARABIC_SCRIPT_LETTERS for ch in text):
        return True
    dari = sum(w in _DARI_MARKERS for w in words)
    pashto = sum(w in _PASHTO_MARKERS for w in words)
    return dari >= 2 and dari > pashto
