"""Personal details in what a child wrote on a challenge card, found before it is published.

A participation worker reads every card before it goes public. This module points at what
looks like a name, phone number, email, postcode, address, school or social media name so
the worker can take it out. It is deliberately generous: a false highlight costs the worker
a glance, a miss can identify a child in care. Help line numbers (999, 0800 1111, 116 123)
are not personal and are left alone, because children are told to use them.

Every pattern is linear in the length of the text (no nested quantifiers that can overlap,
and long runs are scanned by hand), so a pasted essay cannot stall a request.

Names are found two ways: after a cue ("my name is", "my sw", "Mrs"), where children often
write in lowercase, and as a capitalised word in mid-sentence that is not a common word or
a known non-name (a month, a place, an organisation such as Ofsted or CAMHS).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "Detail",
    "DetailKind",
    "find_personal_details",
    "highlight",
    "redact",
    "remaining_hard_details",
]


class DetailKind(enum.Enum):
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    ADDRESS = "address"
    SCHOOL = "school"
    SOCIAL = "social"  # @handles, snapchat/instagram usernames

    @property
    def placeholder(self) -> str:
        """What stands in for a removed detail in the public text."""
        return _PLACEHOLDERS[self]


_PLACEHOLDERS = {
    DetailKind.NAME: "[name]",
    DetailKind.PHONE: "[phone number]",
    DetailKind.EMAIL: "[email address]",
    DetailKind.POSTCODE: "[postcode]",
    DetailKind.ADDRESS: "[address]",
    DetailKind.SCHOOL: "[school]",
    DetailKind.SOCIAL: "[social media name]",
}

# When two findings overlap, the merged span takes the most specific kind: an email is
# surer than a name found inside it.
_PRIORITY = {
    DetailKind.EMAIL: 7,
    DetailKind.PHONE: 6,
    DetailKind.POSTCODE: 5,
    DetailKind.SOCIAL: 4,
    DetailKind.ADDRESS: 3,
    DetailKind.SCHOOL: 2,
    DetailKind.NAME: 1,
}

HARD_KINDS = frozenset(DetailKind) - {DetailKind.NAME}
Span = tuple[int, int, DetailKind]


def _words(block: str) -> frozenset[str]:
    """A word list written as a block of text, one or more words a line."""
    return frozenset(block.split())


@dataclass(frozen=True)
class Detail:
    """One personal detail: ``text == original[start:end]``."""

    kind: DetailKind
    start: int
    end: int
    text: str


def find_personal_details(text: str) -> list[Detail]:
    """Every personal detail in ``text``, sorted by start and never overlapping."""
    spans: list[tuple[int, int, DetailKind]] = []
    for finder in (
        _emails_and_handles,
        _phones,
        _postcodes,
        _addresses,
        _schools,
        _social_cues,
        _names,
    ):
        spans.extend(finder(text))
    return [Detail(kind, start, end, text[start:end]) for start, end, kind in _resolve(spans, text)]


def highlight(text: str, details: list[Detail]) -> Markup:
    """The text, HTML-escaped, with each detail wrapped in a ``<mark>`` naming its kind."""
    parts: list[Markup] = []
    position = 0
    for detail in _ordered(details):
        parts.append(escape(text[position : detail.start]))
        parts.append(
            Markup('<mark class="pii pii-{0}" title="{0}">{1}</mark>').format(
                detail.kind.value, text[detail.start : detail.end]
            )
        )
        position = detail.end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def redact(text: str, details: list[Detail] | None = None) -> str:
    """The text with each detail replaced by a placeholder such as "[name]".

    This is the worker's starting point for the public text, not a finished version.
    """
    if details is None:
        details = find_personal_details(text)
    parts: list[str] = []
    position = 0
    for detail in _ordered(details):
        parts.append(text[position : detail.start])
        parts.append(detail.kind.placeholder)
        position = detail.end
    parts.append(text[position:])
    return "".join(parts)


def remaining_hard_details(text: str) -> list[Detail]:
    """Details in a public text that block publishing.

    Names are left out: they are too fuzzy to block on, so the worker is only warned.
    """
    return [d for d in find_personal_details(text) if d.kind in HARD_KINDS]


def _ordered(details: Iterable[Detail]) -> Iterator[Detail]:
    # Details may come from an older run or a worker's edit: skip any that overlap rather
    # than garble the text.
    end = 0
    for detail in sorted(details, key=lambda d: (d.start, -d.end)):
        if detail.start >= end:
            yield detail
            end = detail.end


def _resolve(spans: list[Span], text: str) -> list[Span]:
    """Union overlapping findings (never lose coverage), then join neighbours of one kind."""
    merged: list[Span] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            if _PRIORITY[kind] > _PRIORITY[last_kind]:
                last_kind = kind
            merged[-1] = (last_start, max(last_end, end), last_kind)
        else:
            merged.append((start, end, kind))
    joined: list[Span] = []
    for start, end, kind in merged:
        if joined and joined[-1][2] is kind:
            gap = text[joined[-1][1] : start]
            # "Jade" + "Smith" is one full name; "Flat 3, 5 High St" is one address.
            if (kind is DetailKind.NAME and _NAME_GAP.fullmatch(gap)) or (
                kind is DetailKind.ADDRESS and _ADDRESS_GAP.fullmatch(gap)
            ):
                joined[-1] = (joined[-1][0], end, kind)
                continue
        joined.append((start, end, kind))
    return joined


_NAME_GAP = re.compile(r"[ \t]{1,3}|-")
_ADDRESS_GAP = re.compile(r"[ \t]{0,3},?[ \t]{0,3}")

# --- Emails and @handles --------------------------------------------------------------

_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._")
_SPELT_EMAIL = re.compile(
    r"\b[\w.+-]{1,64}[ \t]*(?:\(at\)|\[at\]|[ \t]at[ \t])[ \t]*"
    r"(?:gmail|googlemail|hotmail|yahoo|outlook|icloud|live|aol|btinternet|sky|proton(?:mail)?)"
    r"[ \t]*(?:\.|dot|\(dot\)|\[dot\])[ \t]*(?:co(?:[ \t]*(?:\.|dot)[ \t]*)uk|com|net|org|uk)\b",
    re.IGNORECASE,
)


def _emails_and_handles(text: str) -> Iterator[Span]:
    # Scanned outward from each "@" by hand: a regex with a leading run would rescan long
    # runs of letters from every position, which is quadratic.
    at = text.find("@")
    while at != -1:
        left = at
        while left > 0 and at - left < 64 and text[left - 1] in _EMAIL_LOCAL:
            left -= 1
        right = at + 1
        while right < len(text) and right - at < 255 and text[right] in _DOMAIN_CHARS:
            right += 1
        while right > at + 1 and text[right - 1] in ".-":
            right -= 1
        while left < at and text[left] in ".'-":
            left += 1
        domain = text[at + 1 : right]
        if left < at and any(c.isalpha() for c in domain):
            yield (left, right, DetailKind.EMAIL)
        elif left == at:
            end = at + 1
            while end < len(text) and end - at <= 30 and text[end] in _HANDLE_CHARS:
                end += 1
            while end > at + 1 and text[end - 1] == ".":
                end -= 1
            if end - at >= 3 and any(c.isalnum() for c in text[at + 1 : end]):
                yield (at, end, DetailKind.SOCIAL)
        at = text.find("@", max(right, at + 1))
    for match in _SPELT_EMAIL.finditer(text):
        yield (match.start(), match.end(), DetailKind.EMAIL)


# --- Phone numbers --------------------------------------------------------------------

# Digits with at most two separators between each: "07700 900 123", "+44 (0)7700-900123".
_PHONE = re.compile(r"(?<![\w+])(?:\+|\b)[ \t]?\d(?:[ \t.()-]{0,2}\d){6,14}(?!\d)")
# Help lines children are told to ring; they are not personal details.
_HELPLINES = frozenset({"08001111", "116123", "116111", "08088005000", "08000684141", "999"})


def _phones(text: str) -> Iterator[Span]:
    for match in _PHONE.finditer(text):
        raw = match.group()
        digits = re.sub(r"\D", "", raw)
        if digits in _HELPLINES:
            continue
        international = raw.startswith("+") or digits.startswith("00")
        if digits.startswith("0044"):
            digits = digits[2:]
        if international and digits.startswith("44"):
            digits = "0" + digits[2:].removeprefix("0")  # "+44 (0)7…" keeps one zero
        elif international:
            if len(digits) >= 9:  # a foreign number is still a way to reach the child
                yield (match.start(), match.end(), DetailKind.PHONE)
            continue
        if _is_uk_phone(digits):
            yield (match.start(), match.end(), DetailKind.PHONE)


def _is_uk_phone(digits: str) -> bool:
    if digits.startswith(("08", "09")):  # freephone and premium: services, not people
        return False
    if digits.startswith("07"):
        return len(digits) in (10, 11)  # children drop or double a digit
    if digits.startswith(("01", "02", "03")):
        return 10 <= len(digits) <= 11
    return digits.startswith("7") and len(digits) == 10  # a mobile written without its 0


# --- Postcodes ------------------------------------------------------------------------

_POSTCODE_AREAS = _words(
    """
    AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT
    DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA
    LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE
    SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV
    YO ZE
    """
)
_LONDON_AREAS = frozenset({"E", "EC", "N", "NW", "SE", "SW", "W", "WC"})
_POSTCODE = re.compile(
    r"\b(?P<area>[A-Z]{1,2})(?P<district>\d{1,2}|\d[A-Z])"
    r"(?:[ \t]{0,2}(?P<inward>\d[A-Z]{2}))?\b",
    re.IGNORECASE,
)
_NOT_POSTCODES = frozenset({"CO2", "CO1"})  # carbon dioxide and friends, not Colchester


def _postcodes(text: str) -> Iterator[Span]:
    for match in _POSTCODE.finditer(text):
        area = match["area"].upper()
        district = match["district"].upper()
        if area not in _POSTCODE_AREAS:
            continue
        if district[-1].isalpha() and area not in _LONDON_AREAS:
            continue
        if match["inward"] is None:
            outward = match.group()
            if outward.upper() in _NOT_POSTCODES:
                continue
            # Lowercase "m8", "b4", "l8" are text speak; "me14" is still a postcode.
            if outward.islower() and len(area) == 1 and len(district) == 1:
                continue
        yield (match.start(), match.end(), DetailKind.POSTCODE)


# --- Addresses ------------------------------------------------------------------------

_STRONG_STREET = (
    r"road|rd|raod|street|st|streat|steet|avenue|ave|avenu|lane|ln|close|drive|dr|crescent|"
    r"cres|court|ct|place|pl|gardens|gdns|grove|terrace|terr|tce|square|sq|mews"
)
_WEAK_STREET = r"way|hill|walk|view|park|row"  # also ordinary words: "2 dogs walk"
_STREET = rf"(?:{_STRONG_STREET}|{_WEAK_STREET})"
_STRONG_STREET_WORDS = frozenset(_STRONG_STREET.split("|"))
_STREET_WORD = r"[^\W\d_][\w'’.-]*"
_NUMBERED_STREET = re.compile(
    rf"\b(?P<number>\d{{1,4}}[a-z]?)(?:[ \t]*,[ \t]*|[ \t]+)(?:(?:on|in|at|off)[ \t]+)?"
    rf"(?P<words>(?:{_STREET_WORD}[ \t]+){{1,3}}?)(?P<suffix>{_STREET})\b\.?",
    re.IGNORECASE,
)
_FLAT = re.compile(
    r"\b(?:flat|apartment|appartment|apt|flt|unit)\.?[ \t]*(?:no\.?[ \t]*|number[ \t]*)?"
    r"\d{1,4}[a-z]?\b",
    re.IGNORECASE,
)
_NAMED_STREET = re.compile(
    r"\b(?P<words>(?:[A-Z][\w'’-]*[ \t]+){1,3})(?P<suffix>Road|Rd|Street|St|Avenue|Ave|Lane|Ln"
    r"|Close|Drive|Dr|Crescent|Court|Place|Gardens|Grove|Hill|Terrace|Walk|View|Park|Square"
    r"|Mews|Row|Way)\b\.?"
)
_LIVE_ON = re.compile(
    rf"\b(?:live[sd]?|living|stay(?:s|ing)?|moved?)[ \t]+(?:on|at|in|to|near|off)[ \t]+"
    rf"(?:(?:a|the)[ \t]+)?(?P<words>(?:{_STREET_WORD}[ \t]+){{1,3}}?)"
    rf"(?P<suffix>{_STRONG_STREET})\b\.?",
    re.IGNORECASE,
)
# Words that cannot sit between a house number and a street suffix: "2 hours on the road".
_NOT_IN_ADDRESS = _words(
    """
    hour hours hr hrs minute minutes min mins second seconds secs day days week weeks month
    months year years yr yrs time times pound pounds quid pence p mile miles km metre metres
    people kids children friends of the a an and or but to for with from my our your his her
    their its this that these those at on in by is are was were be been it we they i you he
    she me us them so then than too very more less most some any all each every other only
    just not no yes up down out over into onto back off go went going get got do did done
    """
)
_NOT_A_STREET = _words(
    """
    family youth crown county magistrates high supreme theme water skate car retail trampoline
    holiday national jurassic safari business science sponsored charity fun no any by milky
    """
)


def _addresses(text: str) -> Iterator[Span]:
    for match in _FLAT.finditer(text):
        yield (match.start(), match.end(), DetailKind.ADDRESS)
    for match in _NUMBERED_STREET.finditer(text):
        words = match["words"].split()
        if any(w.lower().strip(".,") in _NOT_IN_ADDRESS for w in words):
            continue
        suffix = match["suffix"]
        weak = suffix.lower() not in _STRONG_STREET_WORDS
        if weak and not (suffix[0].isupper() or any(w[0].isupper() for w in words)):
            continue
        yield (match.start("number"), match.end(), DetailKind.ADDRESS)
    for match in _NAMED_STREET.finditer(text):
        words = match["words"].split()
        # Keep only the words after the last ordinary word: "I go To Church Lane".
        kept: list[str] = []
        for word in words:
            lowered = word.lower()
            if lowered in _FUNCTION_WORDS or lowered in _NOT_IN_ADDRESS:
                kept = []
            else:
                kept.append(word)
        if not kept or kept[-1].lower() in _NOT_A_STREET or kept[0].lower() in _NOT_A_STREET:
            continue
        suffix = match["suffix"]
        after = text[match.end() : match.end() + 2]
        if suffix in ("St", "Dr") and len(after) == 2 and after[0] == " " and after[1].isupper():
            continue  # "St Mary's", "Dr Patel": a saint or a doctor, not a street
        start = text.rfind(kept[0], match.start(), match.start("suffix"))
        yield (start, match.end(), DetailKind.ADDRESS)
    for match in _LIVE_ON.finditer(text):
        words = match["words"].split()
        if any(w.lower() in _NOT_IN_ADDRESS for w in words):
            continue
        yield (match.start("words"), match.end(), DetailKind.ADDRESS)


# --- Schools --------------------------------------------------------------------------

_SCHOOL_WORD = re.compile(
    r"\b(?:high[ \t]+school|high|sixth[ \t]+form|school|skool|scool|shcool|schol|academy|acadamy|"
    r"accademy|academie|college|colledge|collage|primary|primery|secondary|secondry|"
    r"secondery|grammar|infants?|juniors?|juniours?)\b",
    re.IGNORECASE,
)
# Words that make "X school" a kind of school rather than one school.
_NOT_A_SCHOOL_NAME = _words(
    """
    virtual boarding special primary secondary grammar high middle junior juniors infant infants
    nursery sixth form further higher free summer sunday saturday night driving dance drama
    forest home private state public local new old next last whole same different mainstream
    alternative hospital pupil referral college university art film music football cookery
    language english maths science independent residential day big
    little good bad best worst rubbish nice normal proper secure medical online breakfast
    school schools academy academies
    """
)
_DENOMINATIONS = _words("catholic rc ce cofe church christian islamic jewish muslim sikh")
_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*['’]?")


def _schools(text: str) -> Iterator[Span]:
    for match in _SCHOOL_WORD.finditer(text):
        start = match.start()
        taken = 0
        position = start
        while taken < 4:
            previous = _word_before(text, position)
            if previous is None:
                break
            word_start, word = previous
            lowered = _plain(word)
            saint = lowered in ("st", "st.", "saint")
            if lowered in _DENOMINATIONS and word[0].isupper():
                pass  # "Holy Cross Catholic School", but not "a catholic school"
            elif (
                lowered in _FUNCTION_WORDS
                or lowered in _NOT_A_SCHOOL_NAME
                or lowered in _DENOMINATIONS
            ):
                break
            if not (saint or word[0].isupper() or not _is_common(lowered)):
                break  # lowercase ordinary word: "to college", "my school"
            position = word_start
            taken += 1
        if taken == 0:
            continue
        end = match.end()
        while True:  # take the rest of "Primary School", "Academy Sixth Form"
            following = _SCHOOL_WORD.match(text, _skip_blanks(text, end))
            if following is None or following.start() == end:
                break
            end = following.end()
        yield (position, end, DetailKind.SCHOOL)


def _word_before(text: str, position: int) -> tuple[int, str] | None:
    """The word ending just before ``position`` on the same line, if only blanks divide them."""
    index = position
    while index > 0 and text[index - 1] in " \t" and position - index < 3:
        index -= 1
    if index == position and position > 0:
        return None
    end = index
    while index > 0 and (text[index - 1].isalpha() or text[index - 1] in "'’.-"):
        index -= 1
        if end - index > 40:
            return None
    while index < end and not text[index].isalpha():
        index += 1
    word = text[index:end]
    if not word or (word.endswith(".") and word.lower() != "st."):
        return None  # nothing there, or the end of the previous sentence
    return index, word


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position


# --- Social media names after a platform --------------------------------------------

_PLATFORM = re.compile(
    r"\b(?:snap(?:chat)?|sc|insta(?:gram)?|ig|tik[ \t]?tok|tt|twitter|discord|xbox|psn|"
    r"gamer[ \t]?tag|fb|facebook|whats[ \t]?app|kik|telegram|youtube|yt|roblox|fortnite|twitch|"
    r"threads|bereal|user[ \t]?name)\b",
    re.IGNORECASE,
)
_SOCIAL_FILLER = _words(
    """
    name username user handle tag gamertag id is its it's account acc me on add my
    """
)
_SOCIAL_CONNECTORS = frozenset({"is", "name", "username", "handle", "tag", "id", "gamertag"})
_TOKEN = re.compile(r"\S+")
_HANDLE = re.compile(r"@?[A-Za-z0-9_][A-Za-z0-9_.]{1,29}")


def _social_cues(text: str) -> Iterator[Span]:
    for match in _PLATFORM.finditer(text):
        connector = False
        for token in _TOKEN.finditer(text, match.end(), min(len(text), match.end() + 80)):
            raw = token.group()
            offset = token.start()
            stripped = raw.lstrip(":=-–>")
            if stripped != raw:
                connector = True
                offset += len(raw) - len(stripped)
            if not stripped:
                continue
            if stripped.lower().rstrip(":=-") in _SOCIAL_FILLER:
                connector = connector or stripped.lower().rstrip(":=-") in _SOCIAL_CONNECTORS
                connector = connector or stripped.endswith((":", "="))
                continue
            handle = _HANDLE.match(text, offset)
            if handle is None:
                break
            value = handle.group().rstrip(".")
            bare = value.lstrip("@")
            marked = value.startswith("@") or any(c.isdigit() or c in "_." for c in bare)
            if not any(c.isalpha() for c in bare):
                break
            if (
                value.startswith("@")
                or (marked and len(bare) >= 3)
                or (connector and not _is_common(bare.lower()) and bare.lower() not in _NOT_NAMES)
            ):
                yield (offset, offset + len(value), DetailKind.SOCIAL)
            break


# --- Names ----------------------------------------------------------------------------

_RELATIONS = (
    r"sw|s/w|social[ \t]+worker|socail[ \t]+worker|carer|foster[ \t]+(?:carer|mum|mom|dad|"
    r"parent)|teacher|pa|p\.a\.|iro|key[ \t]?worker|support[ \t]+worker|youth[ \t]+worker|"
    r"worker|mentor|tutor|therapist|counsellor|counselor|advocate|brother|bro|sister|sis|"
    r"mum|mam|mom|mummy|mother|dad|daddy|father|step[ \t]?(?:mum|dad|brother|sister)|"
    r"friend|mate|bestie|bff|bf|gf|boyfriend|girlfriend|partner|nan|nana|nanny|gran|granny|"
    r"grandma|grandad|grandpa|grandmother|grandfather|uncle|aunt|auntie|aunty|cousin|"
    r"niece|nephew|son|daughter|baby|manager|head[ \t]?teacher|doctor|nurse"
)
_NAME_CUE = re.compile(
    r"\b(?:(?P<strong>name(?:'s|’s|s)?[ \t]+(?:is[ \t]+)?|names?[ \t]*[:=-][ \t]*|"
    r"call(?:ed)?[ \t]+me[ \t]+|(?:is|was|are|were)[ \t]+called[ \t]+|named[ \t]+)"
    r"|(?P<called>called[ \t]+)"
    r"|(?P<self>(?:i'?m|i’m|i[ \t]+am|iam)[ \t]+)"
    r"|(?P<title>(?:mr|mrs|ms|mx|miss|dr)\.?[ \t]+)"
    r"|(?P<relation>(?:my|our|his|her|their|me|ma)[ \t]+(?:(?:little|lil|big|baby|older|"
    r"younger|old|new|step|half|twin|foster|best|real|birth)[ \t]+){0,2}"
    rf"(?:{_RELATIONS})(?:'s|’s|s)?(?:[ \t]*,)?[ \t]+"
    r"(?:(?:is|was|called|named|is[ \t]+called|was[ \t]+called|who[ \t]+is)[ \t]+)?))",
    re.IGNORECASE,
)
_AND_I = re.compile(r"[ \t]+and[ \t]+i\b", re.IGNORECASE)


def _names(text: str) -> Iterator[Span]:
    yield from _cued_names(text)
    yield from _capitalised_names(text)


def _cued_names(text: str) -> Iterator[Span]:
    for cue in _NAME_CUE.finditer(text):
        word_match = _WORD.match(text, cue.end())
        if word_match is None or _followed_by_digit(text, word_match.end()):
            continue
        word = word_match.group()
        base = _plain(word)
        if base in _FUNCTION_WORDS or base in _NOT_NAMES:
            continue
        named = base in _FIRST_NAMES
        capital = word[0].isupper()
        if cue["title"]:
            # "I miss home": only a capital or an unusual word makes "miss" a title.
            accepted = not cue.group().lower().startswith("miss") or capital or not _is_common(base)
        elif cue["self"]:
            accepted = (
                named
                or (capital and not _is_common(base))
                or (_AND_I.match(text, word_match.end()) is not None and not _is_common(base))
            )
        elif cue["strong"]:
            accepted = named or not _is_common(base) or (capital and not word.isupper())
        else:
            accepted = named or not _is_common(base)
        if accepted:
            yield _name_span(text, word_match.start(), _strip_possessive(word), capital)


def _capitalised_names(text: str) -> Iterator[Span]:
    words = list(_WORD.finditer(text))
    for index, match in enumerate(words):
        word = match.group()
        if len(word) < 2 or not word[0].isupper():
            if word[0].islower() and _lowercase_name(word):
                yield _name_span(text, match.start(), _strip_possessive(word), False)
            continue
        base = _plain(word)
        if base in _NOT_NAMES or base in _FUNCTION_WORDS:
            continue
        if word.isupper():
            # Shouting and acronyms ("PEP", "IRO"): only known first names count.
            if len(base) >= 3 and base in _FIRST_NAMES and not _is_common(base):
                yield (match.start(), match.start() + len(_strip_possessive(word)), DetailKind.NAME)
            continue
        if _starts_sentence(text, match.start()):
            if base in _FIRST_NAMES and not _is_common(base):
                yield _name_span(text, match.start(), _strip_possessive(word), True)
            elif not _is_common(base) and index + 1 < len(words):
                following = words[index + 1]
                gap = text[match.end() : following.start()]
                nxt = following.group()
                if (
                    _NAME_GAP.fullmatch(gap)
                    and nxt[0].isupper()
                    and not nxt.isupper()
                    and _plain(nxt) not in _NOT_NAMES
                    and not _is_common(_plain(nxt))
                ):
                    yield (match.start(), following.end(), DetailKind.NAME)
            continue
        if base in _FIRST_NAMES or not _is_common(base):
            yield _name_span(text, match.start(), _strip_possessive(word), True)


def _lowercase_name(word: str) -> bool:
    base = _plain(word)
    return (
        base in _FIRST_NAMES
        and not _is_common(base)
        and base not in _NOT_NAMES
        and base not in _AMBIGUOUS_LOWERCASE_NAMES
    )


def _name_span(text: str, start: int, word: str, capital: bool) -> Span:
    """The name starting at ``start``, with up to two more words of a full name."""
    end = start + len(word)
    for _ in range(2):
        gap_end = end
        while gap_end < len(text) and text[gap_end] in " \t-" and gap_end - end < 3:
            gap_end += 1
        if gap_end == end:
            break
        following = _WORD.match(text, gap_end)
        if following is None:
            break
        nxt = following.group()
        base = _plain(nxt)
        if base in _NOT_NAMES or base in _FUNCTION_WORDS or nxt.isupper():
            break
        if capital and not nxt[0].isupper():
            break
        # After a capitalised name any capitalised word is taken as a surname ("Kayden
        # Brooks"); after a lowercase one only an unusual word or a known surname is.
        if not capital and not (
            base in _FIRST_NAMES or base in _SURNAME_WORDS or not _is_common(base)
        ):
            break
        end = gap_end + len(_strip_possessive(nxt))
    return (start, end, DetailKind.NAME)


def _starts_sentence(text: str, position: int) -> bool:
    index = position
    while index > 0 and text[index - 1] in " \t\"'“‘([*•" and position - index < 20:
        index -= 1
    if index == 0:
        return True
    previous = text[index - 1]
    if previous in ".!?:;\n\r\x00" or not previous.isprintable():
        return True
    # A dash or bullet at the start of a line opens a sentence too.
    return previous in "-–" and (index - 1 == 0 or text[index - 2] in "\n\r")


def _followed_by_digit(text: str, position: int) -> bool:
    return position < len(text) and text[position].isdigit()


def _strip_possessive(word: str) -> str:
    for ending in ("'s", "’s", "'", "’"):
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


def _plain(word: str) -> str:
    return _strip_possessive(word).lower().replace("’", "'").rstrip(".")


_CONTRACTIONS = {"can't": "can", "won't": "will", "shan't": "shall", "ain't": "am"}
_SUFFIXES = (
    ("ies", "y"),
    ("ied", "y"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),
    ("ing", ""),
    ("ing", "e"),
    ("er", ""),
    ("ers", ""),
    ("est", ""),
    ("ly", ""),
    ("n't", ""),
    ("'re", ""),
    ("'ve", ""),
    ("'ll", ""),
    ("'d", ""),
    ("'m", ""),
)


def _is_common(word: str) -> bool:
    """Whether ``word`` (lowercase) is an ordinary English word, allowing simple endings."""
    word = _CONTRACTIONS.get(word, word)
    if word in _COMMON_WORDS or word in _FUNCTION_WORDS:
        return True
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            stem = word[: -len(suffix)] + replacement
            if stem in _COMMON_WORDS or stem in _FUNCTION_WORDS:
                return True
            # "stopped", "running": the consonant doubles before the ending.
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in _COMMON_WORDS:
                return True
    return False


# --- Word lists -----------------------------------------------------------------------

_FUNCTION_WORDS = _words(
    """
    a an the and or but if so as at by for from in into of off on onto out over to up with
    about after before under until than then that this these those there here where when
    what which who whom whose why how i me my mine we us our ours you your yours he him his
    she her hers it its they them their theirs is am are was were be been being have has had
    do does did done not no yes all any some every each both either neither other another
    such own same too very can could will would shall should may might must also just only
    even ever never always still yet again already im ive id dont cant wont isnt arent wasnt
    didnt doesnt havent hasnt couldnt wouldnt shouldnt u ur ya yh ok okay pls plz thx lol
    """
)

# Capitalised words that children use mid-sentence and that are not anyone's name.
_NOT_NAMES = _words(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday mon tue tues wed weds thu thur thurs fri sat sun
    christmas xmas easter eid ramadan diwali halloween hanukkah passover pride bonfire
    council councils councillor councillors mayor mp mps parliament government ofsted dfe
    nhs camhs pep peps lac cla cic cicc iro iros sw pa sen send senco ehcp gp gps uasc pru
    yot ypa lgbt lgbtq lgbtqia adhd asd ocd ptsd btec gcse gcses sats ucas dwp hmrc
    childline nspcc barnardos barnardo's coram kooth shout samaritans papyrus mind ymca
    connexions jobcentre home office police policeman court judge cafcass
    mr mrs ms mx miss dr sir mum mam mom dad nan nana gran granny grandma grandad
    england english britain british uk gb scotland scottish wales welsh ireland irish europe
    european london kent medway maidstone canterbury dover margate ramsgate folkestone
    ashford gravesend dartford chatham gillingham rochester sevenoaks tonbridge essex surrey
    sussex manchester birmingham leeds liverpool bristol sheffield newcastle nottingham
    leicester brighton oxford cambridge africa african asia asian america american
    afghanistan afghan albania albanian eritrea eritrean sudan sudanese syria syrian iran
    iranian iraq iraqi vietnam vietnamese ukraine ukrainian poland polish romania romanian
    turkey turkish pakistan pakistani india indian bangladesh bangladeshi nigeria nigerian
    somalia somali ethiopia ethiopian egypt jamaica jamaican kurdish kurdistan arabic pashto
    dari tigrinya urdu bengali punjabi farsi french spanish german italian portuguese
    chinese muslim muslims christian christians jewish sikh hindu buddhist catholic islam
    allah god jesus bible quran koran mosque church
    xbox playstation nintendo switch iphone android samsung apple google youtube netflix
    spotify discord snapchat snap instagram insta tiktok facebook whatsapp roblox fortnite
    minecraft fifa mcdonalds mcdonald's kfc nandos greggs tesco asda aldi lidl sainsburys
    primark morrisons costa starbucks subway amazon uber deliveroo wifi covid zoom teams
    microsoft maths math science history geography spanish drama pe re pshe ict computing
    oyster zip tv bbc itv ps4 ps5 ipad paris disneyland lounge panel centre center unit
    committee assembly canteen reception corridor bowling paintball netball rugby cricket
    boxing karate gymnastics
    """
)

_AMBIGUOUS_LOWERCASE_NAMES = _words(
    "max pat sue sky kit ray jo al di ed eve dawn joy hope rose will mark bill ash ben sam"
)

# Surnames that are also ordinary words; they still complete a full name after a first name.
_SURNAME_WORDS = _words(
    """
    smith green brown white black wood hill king young hall wright walker baker turner cook
    bell wells hunter fox fisher mason carpenter cooper taylor parker ward price long cross
    field lane marsh north south west page day rich little wise bird stone rose moore lee
    """
)

_FIRST_NAMES = _words(
    """
    aaliyah aaron abdul abdullah abbie abby abdi abigail adam adrian ahmed ahmad aidan aiden
    aisha alan albie alex alexa alexander alexandra alfie ali alice alicia alisha amaya amber
    amelia amelie amir amira amy ana andre andrea andrew andy angel angela ann anna annabel
    anne archie aria ariana arlo arthur arya ashley ashton aston aurora austin ava ayaan ayesha
    bailey barry beatrice bella ben benjamin bethany beth billy blake bobby bonnie brandon
    brooke bradley caleb callum cameron carl carla caroline carly casey cassie charlie charles
    charlotte chelsea chloe chris christopher claire clara cody connor corey courtney daisy
    dakota dan daniel danielle danny darren david dean declan demi denise dexter dylan eddie
    eden edward eleanor elijah elizabeth ella ellie elliot elliott ellis eloise elsie emily
    emma erin ethan evan evelyn evie faith farah fatima finley finn florence francesca
    frankie freddie freya gabriel gary gavin gemma george georgia georgina grace gracie
    hannah harley harper harriet harrison harry harvey hassan hayden hayley heidi helen
    henry holly hollie hugo hussain ibrahim imogen isaac isabel isabella isabelle isla
    ismail ivy izzy jack jackson jacob jade jake james jamie jan jasmine jason jay jayden
    jenna jennifer jess jessica jimmy joanne joe joel john jonathan jordan joseph josh
    joshua jude julia julie justin kai kaitlyn karen karl kate katie kayden kayla kayleigh
    keira kelly kerry kevin khadija kian kieran kim kyle lacey lacie lana laura lauren layla
    leah lee leo leon leonardo lewis liam libby lilly lily lisa logan lola louie louis
    louise lucas lucy luke luna lydia lyla maddison madison maisie maisy malik maria mariam
    marie mark martin mary maryam mason matilda matthew maya megan mia michael michelle
    millie mo mohamed mohammad mohammed molly muhammad musa nadia naomi natalie nathan
    neil niamh nicola nicole noah olivia oliver ollie omar oscar paige patrick paul peter
    phoebe poppy priya rachel rebecca reece reggie rhys riley robert robyn ronnie rory rosie
    ruby ryan sadie samuel sana sara sarah scarlett sean sebastian shannon sharon sian
    sienna sofia sophia sophie stacey stanley stephanie steven summer susan tanya taylor
    teddy theo theodore thomas tilly toby tom tommy tony tyler tyrone usman valentina
    victoria violet willow william yasmin yusuf zac zach zachary zain zak zara zoe zoë zayn
    dawn joy hope rose mark will bill ash ray eve sam max jo sue pat kit sky
    """
)

# The Dale-Chall list of words familiar to children (as shipped with textstat), without
# names and months, plus the words of care, school and youth services.
_COMMON_WORDS = _words(
    """
    a able aboard about above absent accept accident accommodation account accounts ache aching
    acorn acre across act activities activity acts actually add address admire adopted adoption
    adult adults adventure advocacy advocate afar afraid after afternoon afterward afterwards
    again against age aged agencies agency ago agree ah ahead aid aim air airfield airplane
    airport airship airy alarm alike alive all alley alligator allow allowance almost alone
    along aloud already also always am amazing among amount an and angel anger angry animal
    annoying another answer answered ant anxiety any anybody anyhow anyone anything anyway
    anywhere apart apartment ape apiece app appear apple appointment appointments apprenticeship
    apprenticeships apps apron are area areas aren't arise arithmetic arm armful army arose
    around arrange arrive arrived arrow art artist as ash ashes aside ask asked asks asleep at
    ate attack attend attention aunt author autism auto automobile autumn avenue awake awaken
    away awesome awful awfully awhile ax axe baa babe babies back background backward backwards
    bacon bad badge badly bag bake baker bakery baking ball balloon banana band bandage bang
    banjo bank banker bar barber bare barefoot barely bark barn barrel base baseball basement
    basically basket bat batch bath bathe bathing bathroom bathtub battle battleship bay be
    beach bead beam bean bear beard beast beat beating beautiful beautify beauty became because
    become becoming bed bedbug bedroom bedsit bedspread bedtime bee beech beef beefsteak beehive
    been beer beet before beg began beggar begged begin beginning begun behave behind being
    believe bell belong below belt bench bend beneath benefit benefits bent berries berry beside
    besides best bet better between bib bible bicycle bid big bigger billboard bills bin bind
    bird birth birthday birthdays biscuit bit bite biting bitter black blackberry blackbird
    blackboard blackness blacksmith blame blank blanket blast blaze bleed bless blessing blew
    blind blindfold blinds block blood bloom blossom blot blow blue blueberry bluebird blush
    board boast boat bobwhite bodies body boil boiler bold bone bonnet boo book bookcase
    bookkeeper boom boot born borrow boss both bother bottle bottom bought bounce bow bow-wow
    bowl box boxcar boxer boxes boy boyhood bracelet brain brake bran branch brass brave bread
    break breakfast breast breath breathe breeze brick bride bridge bright brightness brilliant
    bring broad broadcast broke broken brook broom brother brothers brought brown brush bubble
    bucket buckle bud budget budgets buffalo bug buggy build building built bulb bull bullet
    bullied bully bullying bum bumblebee bump bun bunch bundle bunny burn burst bury bus buses
    bush bushel business busy but butcher butt butter buttercup butterfly buttermilk
    butterscotch button buttonhole buy buzz by bye cab cabbage cabin cabinet cackle cage cake
    calendar calf call caller calling came camel camp campfire can can't canal canary candle
    candlestick candy cane cannon cannot canoe canyon cap cape capital captain car card
    cardboard cards care careful careless carelessness carer carers carload carpenter carpet
    carriage carrot carry cart carve case cash cashier castle cat catbird catch catcher
    caterpillar catfish catsup cattle caught cause cave ceiling celebration celebrations cell
    cellar cent center cereal certain certainly chain chair chalk champion chance change changed
    changes chap charge charger chargers charm chart charter chase chatter cheap cheaper cheat
    check checkers cheek cheer cheese cherry chest chew chick chicken chief child childhood
    children chill chilly chimney chin china chip chipmunk chips chocolate choice choices choose
    chop chorus chose chosen christen christmas church churn cigarette cinema circle circus
    citizen city clang clap class classmate classroom claw clay clean cleaner clear clerk clever
    click cliff climb clip cloak clock close closet cloth clothes clothing cloud cloudy clover
    clown club clubs cluck clump coach coal coast coat cob cobbler cocoa coconut cocoon cod
    codfish coffee coffeepot coin cold collar college colleges color colored colt column comb
    come comfort comic coming company compare complain complaining complaint complaints
    conductor cone connect console consoles contact contacts coo cook cooked cookie cookies
    cooking cool cooler coop copper copy cord cork corn corner corporate correct cost costs cot
    cottage cotton couch cough could couldn't council councillor counselling counsellor count
    counter countries country county course court cousin cover cow coward cowardly cowboy cozy
    crab crack cracker cradle cramps cranberry crank cranky crash crawl crazy cream creamy creek
    creep crept cried cries croak crook crooked crop cross cross-eyed crossing crow crowd
    crowded crown cruel crumb crumble crush crust cry cub cuff cultural culture cup cupboard
    cupful cure curfew curl curly curtain curve cushion custard customer cut cute cutting dab
    dad daddy dads daily dairy daisy dam damage dame damp dance dancer dancing dandy danger
    dangerous dare dark darkness darling darn dart dash date daughter dawn day daybreak daytime
    dead deaf deal dear death decide decision decisions deck deed deep deer defeat defend
    defense definitely delight den dentist depend deposit depression deputy describe desert
    deserve desire desk destroy detention devil dew diamond did didn't die died dies difference
    different dig dim dime dine ding-dong dinner dip direct direction dirt dirty discover dish
    dislike dismiss ditch dive diver divide do dock doctor doctors does doesn't dog doll dollar
    dolly don't done donkey door doorbell doorknob doorstep dope dot double dough dove down
    downstairs downtown dozen drag drain drank draw drawer drawing dream dress dresser
    dressmaker drew dried drift drill drink drip drive driven driver driving drop drove drown
    drowsy drub drum drunk dry duck due dug dull dumb dump during dust dusty duty dwarf dwell
    dwelt dying each eager eagle ear early earn earth east eastern easy eat eaten edge education
    egg eh eight eighteen eighth eighty either elbow elder eldest electric electricity elephant
    eleven elf elm else elsewhere email emails emotional employment empty end ending enemy
    engine engineer enjoy enough enter envelope equal erase eraser errand escape eve even
    evening event events ever every everybody everyday everyone everything everywhere evil exact
    exam exams except exchange excited exciting excluded exclusion excuse exit expect expensive
    explain extra eye eyebrow fable face facing fact factory fail faint fair fairy faith fake
    fall false families family fan fancy far far-off faraway fare farm farmer farming farther
    fashion fast fasten faster fat father fault favor favorite fear feast feather fed feed
    feedback feel feet fell fellow felt fence fever few fib fiddle field fife fifteen fifth
    fifty fig fight figure file fill film finally find fine finger finish fire firearm
    firecracker fireplace fireworks firing first fish fisherman fist fit fits five fix flag
    flake flame flap flash flashlight flat flats flea flesh flew flies flight flip flip-flop
    float flock flood floor flop flour flow flower flowery flutter fly foam fog foggy fold folks
    follow following fond food fool foolish foot football footprint for forehead forest forget
    forgive forgot forgotten fork form fort forth fortune forty forum forward foster fostering
    fought found fountain four fourteen fourth fox frame free freedom freeze freight fresh fret
    fridge fried friend friendly friendship frighten frog from front frost frown froze fruit fry
    fudge fuel full fully fun fund funded funding funny fur furniture further fuzzy gain gallon
    gallop game games gaming gang garage garbage garden gas gasoline gate gather gave gay gear
    geese general gentle gentleman gentlemen geography get getting giant gift gingerbread girl
    give given giving glad gladly glance glass glasses gleam glide glory glove glow glue go goal
    goat gobble godmother goes going gold golden goldfish golf gone good good-by good-bye good-
    looking goodbye goodness goods goody goose gooseberry got govern government gown grab
    gracious grade grain grand grandchild grandchildren granddaughter grandfather grandma
    grandmother grandpa grandparents grandson grandstand grape grapefruit grapes grass
    grasshopper grateful grave gravel graveyard gravy gray graze grease great green greet grew
    grind groan grocery ground group groups grove grow guard guess guest guide gulf gum gun
    gunpowder guy gym ha habit had hadn't hail hair haircut hairpin half hall halt ham hammer
    hand handful handkerchief handle handwriting hang happen happily happiness happy harbor hard
    hardly hardship hardware hare hark harm harness harp harvest has hasn't haste hasten hasty
    hat hatch hatchet hate haul have haven't having hawk hay hayfield haystack he he'd he'll
    he's head headache headphones headteacher heal health healthy heap hear heard hearing heart
    heat heater heaven heavy heel height held hell hello helmet help helped helper helpful helps
    hem hen henhouse her herd here here's hero hers herself hey hi hickory hid hidden hide high
    highway hill hillside hilltop hilly him himself hind hint hip hire his hiss history hit
    hitch hive ho hoe hog hold holder hole holiday holidays hollow holy home homely homesick
    homework honest honestly honey honeybee honeymoon honk honor hood hoof hook hoop hop hope
    hopeful hopeless horn horrible horse horseback horseshoe hose hospital host hostel hostels
    hot hotel hound hour house housetop housewife housework housing how however howl hub hug
    huge hum humble hump hundred hung hunger hungry hunk hunt hunter hurrah hurried hurry hurt
    husband hush hut hymn i i'd i'll i'm i've ice icy id idea ideal if ill important impossible
    improve improved in inch inches income indeed independence independent indoors ink inn
    insect inside instant instead insult insurance intend interested interesting internet
    interpreter into invite iron is island isn't isolation it it's its itself ivory ivy jacket
    jacks jail jam jar jaw jay jelly jellyfish jerk jig job jobs jockey join joke joking jolly
    journey joy joyful joyous judge jug juice juicy jump junior junk just keen keep kept kettle
    key keyworker kick kid kids kill killed kind kindly kindness king kingdom kinship kiss
    kitchen kite kitten knee kneel knew knife knit knives knob knock knot know known lace lad
    ladder ladies lady laid lake lamb lame lamp land lane language languages lantern lap laptop
    lard large lash lass last late laugh laundry law lawn lawyer lay lazy lead leader leaders
    leaf leak lean leap learn learned least leather leave leaver leavers leaving led left leg
    lemon lemonade lend length less lesson lessons let let's letter letting lettuce level
    liberty library lice licence lick lid lie life lift light lightness lightning like likely
    liking lily limb lime limp line linen lion lip list listen listened listening lit literally
    little live lively liver lives living lizard load loaf loan loaves local lock locomotive log
    lone lonely lonesome long look lookout loop loose lord lose loser loss lost lot loud love
    lovely lover low luck lucky lumber lump lunch lying machine machinery mad made magazine
    magic maid mail mailbox mailman major make making male mama mamma man manager managers mane
    manger many map maple marble mare mark market marriage married marry mask mast master mat
    match matter mattress maybe mayor maypole me meadow meal meals mean means meant measure meat
    medication medicine meet meeting meetings melt member men mend mental mentor meow merry mess
    message met metal mew mice middle midnight might mighty mile miler milk milkman mill million
    mind mine miner mint minute mirror mischief miss misspell mistake misty mitt mitten mix
    mobile moment money monkey month moo moon moonlight moose mop more morning morrow moss most
    mostly mother motor mount mountain mouse mouth move moved movie movies moving mow mr. mrs.
    much mud muddy mug mule multiply mum mums murder music must my myself nail name nan nans nap
    napkin narrow nasty naughty navy near nearby nearly neat neck necktie need needed needle
    needn't needs neet neighbor neighborhood neither nerve nest net never nevermore new
    news newspaper next nibble nice nickel night nightgown nine nineteen ninety no nobody nod
    noise noisy none noon nope nor north northern nose not note nothing notice now nowhere
    number nurse nut o'clock oak oar oatmeal oats obey ocean odd of off offer office officer
    officers offices often oh oil okay old old-fashioned on once one onion online only onward
    open opinion opinions or orange orchard order ore organ other otherwise ouch ought our ours
    ourselves out outdoors outfit outlaw outline outside outward oven over overalls overcoat
    overeat overhead overhear overnight overturn owe owing owl own owner ox pa pace pack package
    pad page paid pail pain painful paint painter painting pair pal palace pale pan pancake pane
    pansy pants papa paper parade pardon parent parenting parents park part parties partly
    partner party pass passenger passes passport passports password past paste pasture pat patch
    path pathway patter pave pavement paw pay paying payment pea peace peaceful peach peaches
    peak peanut pear pearl peas peck peek peel peep peg pen pencil penny people pepper
    peppermint perfume perhaps person personal persons pet phone phones physical piano pick
    pickle picnic picture pie piece pig pigeon piggy pile pill pillow pin pine pineapple pink
    pint pipe pistol pit pitch pitcher pity pizza place placement placements plain plan plane
    plans plant plate platform platter play player playground playhouse playmate plaything
    pleasant please pleasure pledge plenty plow plug plum pocket pocketbook poem point poison
    poke pole police policeman policies policy polish polite pond ponies pony pool poor pop
    popcorn popped porch pork possible post postage postman pot potato potatoes pound pour
    powder power powerful praise pray prayer prepare present presents pretty price prick prince
    princess print prison privacy private prize products promise promises pronoun pronouns
    proper properly protect proud prove provisional prune public puddle puff pull pump pumpkin
    punch punish pup pupil puppy pure purple purse push puss put putting puzzle
    quack quart quarter queen queer question quick quicker quickly quiet quilt quit quite rabbit
    race racism racist rack radio radish rag rail railroad railway rain rainbow rainy raise
    raisin rake ram ran ranch rang rap rapidly rat rate rather rattle raw ray reach read reader
    reading ready real really reap rear reason rebuild receive recess record red redbird
    redbreast refuse reindeer rejoice religion religious remain remember remind remove rent
    repair repay repeat replied replies reply report residential respect respected respite rest
    return review reviews revision reward rib ribbon rice rich rid riddle ride rider riding
    right rim ring rip ripe rise rising river road roadside roar roast rob robber robe robin
    rock rocket rocky rode roll roller roof room rooms rooster root rope rosebud rot rotten
    rough round route row rowboat royal rub rubbed rubber rubbish rug rule ruler rules rumble
    run rung runner running rush rust rusty rye sack sad saddle sadness safe safety said sail
    sailboat sailor saint salad sale salt same sand sandwich sandy sang sank sap sash sat satin
    satisfactory sausage savage save savings saw say says scab scales scare scarf school
    schoolboy schoolhouse schoolmaster schoolroom scorch score scrap scrape scratch scream
    screen screw scrub sea seal seam search season seat second secret see seed seeing seek seem
    seen seesaw select self selfish sell send senior sense sent sentence separate seriously
    servant serve service services session sessions set setting settle settlement seven
    seventeen seventh seventy several sew shade shadow shady shake shaker shaking shall shame
    shan't shape share sharp shave she she'd she'll she's shear shears shed sheep sheet shelf
    shell shepherd shine shining shiny ship shirt shock shoe shoemaker shone shook shoot shop
    shopping shore short shot should shoulder shouldn't shout shovel show shower shut shy
    sibling siblings sick sickness side sidewalk sideways sigh sight sign silence silent silk
    sill silly silver simple sin since sing singer single sink sip sir sis sister sisters
    sit sitting six sixteen sixth sixty size skate skater ski skin skip skirt sky slam slap
    slate slave sled sleep sleepover sleepovers sleepy sleeve sleigh slept slice slid slide
    sling slip slipped slipper slippery slit slow slower slowly sly smack small smart smell
    smile smoke smooth snack snacks snail snake snap snapping sneeze snow snowball snowflake
    snowy snuff snug so soak soap sob social socks sod soda sofa soft soil sold soldier sole
    some somebody somehow someone something sometime sometimes somewhere son song soon sore
    sorrow sorry sort soul sound soup sour south southern space spade spank sparrow speak
    speaker spear speech speed spell spelling spend spent spider spike spill spin spinach spirit
    spit splash spoil spoke spook spoon sport spot spread spring springtime sprinkle square
    squash squeak squeeze squirrel stable stack staff stage stair stall stamp stand star stare
    start starve state states station stay steak steal steam steamboat steamer steel steep
    steeple steer stem step stepping stick sticky stiff still stillness sting stir stitch stock
    stocking stole stone stood stool stoop stop stopped stopping store stories stork storm
    stormy story stove straight strange stranger strap straw strawberry stream street stretch
    strict string strip stripes strong stuck study stuff stump stung subject such suck sudden
    suffer sugar suit sum summer sun sunflower sung sunk sunlight sunny sunrise sunset sunshine
    supper support supported suppose sure surely surface surprise survey surveys swallow swam
    swamp swan swat swear sweat sweater sweep sweet sweetheart sweetness swell swept swift swim
    swimming swing switch sword swore table tablecloth tablespoon tablet tablets tack tag tail
    tailor take takeaway taken taking tale talk talker tall tame tan tank tap tape tar tardy
    task taste taught tax taxi taxis tea teach teacher teachers team teams tear tease teaspoon
    teen teenager teenagers teens teeth telephone tell temper ten tenancy tennis tent term
    terrible test than thank thankful thanks that that's the theater thee their them then
    therapist therapy there these they they'd they'll they're they've thick thief thimble thin
    thing think third thirsty thirteen thirty this thorn those though thought thousand thread
    three threw throat throne through throw thrown thumb thunder thy tick ticket tickets tickle
    tie tiger tight till time tin tinkle tiny tip tiptoe tire tired title to toad toadstool
    toast tobacco today toe together toilet told tomato tomorrow ton tone tongue tonight too
    took tool toot tooth toothbrush toothpick top tore torn toss touch tow toward towards towel
    tower town toy trace track trade train training trains tramp trampoline trampolining trans
    transition transitions translated translator transport trap travel tray treasure treat tree
    trick tricycle tried tries trim trip trips trolley trouble truck true truly trunk trust
    truth try tub tug tulip tumble tune tunnel turkey turn turtle tutor twelve twenty twice twig
    twin two ugly umbrella uncle under understand underwear undress unfair unfinished unfold
    unfriendly unhappy unhurt uni uniform united university unkind unknown unless unpleasant
    until unwilling up upon upper upset upside upstairs uptown upward us use used useful useless
    valentine valley valuable value vase vegetable velvet very vessel victory view village vine
    violet virtual visit visiting visitor visits voice voices vote wag wage wages wagon waist
    wait wake waken walk wall walnut want wanted wants war warm warn was wash washer washing
    washtub wasn't waste watch watchman water watermelon waterproof wave wax way wayside we we'd
    we'll we're we've weak weaken weakness wealth weapon wear weary weather weave web website
    wedding wee weed week weekend weekends weep weigh welcome well wellbeing went were west
    western wet whale what what's whatever wheat wheel when whenever where wherever which while
    whip whipped whirl whiskey whisky whisper whistle white who who'd who'll who's whole whom
    whose why wicked wide wife wifi wiggle wild wildcat willing willow win wind windmill window
    windy wine wing wink winner winter wipe wire wise wish wit witch with without woke wolf
    woman women won won't wonder wonderful wood wooden woodpecker woods wool woolen word wore
    work worker workers workman world worm worn worry worse worst worth would wouldn't wound
    wove wrap wrapped wreck wren wring write writing written wrong wrote wrung xbox yard yarn
    yeah year yell yellow yes yesterday yet yolk yonder you you'd you'll you're you've young
    youngster your yours yourself yourselves youth
    """
)
