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
from pathlib import Path

import yaml
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


def remaining_hard_details(text: str, allowed: Iterable[str] = ()) -> list[Detail]:
    """Details in a public text that block publishing.

    Every phone number, email, postcode, address, school and social media name blocks, and
    so does every name that is surely a person's: one after a cue ("Mrs Patel", "my sw
    kerry", "a boy called Deshawn"), one holding a known first name ("Sarah Jones", "ask
    jade"), or a first name with a surname ("Grace Smith"). Other capitalised words that
    look like names ("Universal Credit", "Participation Team") are highlighted for the
    worker but do not block. ``allowed`` holds the council's own names (its services, for
    example "Virtual School" or "Kent Housing"): a detail inside one of them does not block.
    """
    allowed_spans = _phrase_spans(text, allowed)
    cued = [(start, end) for start, end, _kind in _cued_names(text)]
    return [
        detail
        for detail in find_personal_details(text)
        if (detail.kind in HARD_KINDS or _surely_a_person(detail, text, cued))
        and not any(start <= detail.start and detail.end <= end for start, end in allowed_spans)
    ]


def _surely_a_person(detail: Detail, text: str, cued: list[tuple[int, int]]) -> bool:
    if detail.kind is not DetailKind.NAME:
        return False
    words = [_plain(match.group()) for match in _WORD.finditer(detail.text)]
    if any(word in _FIRST_NAMES and not _is_common(word) for word in words):
        return True
    if len(words) >= 2 and words[0] in _FIRST_NAMES:
        return True
    if any(start < detail.end and detail.start < end for start, end in cued):
        # After "Mrs" or with a capital ("my sw Kerry"); a lowercase word after "my mum
        # was" is as likely "cancelled" as a name, and is only highlighted.
        return detail.text[:1].isupper() or _TITLE_BEFORE.search(text, 0, detail.start) is not None
    return False


_TITLE_BEFORE = re.compile(r"\b(?:mr|mrs|ms|mx|dr)\.?[ \t]+$", re.IGNORECASE)


def _phrase_spans(text: str, phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Where each phrase occurs in ``text``, ignoring case (whole phrases, not parts of words)."""
    lowered = text.lower()
    spans = []
    for phrase in {p.strip().lower() for p in phrases if len(p.strip()) >= 2}:
        start = lowered.find(phrase)
        while start != -1:
            end = start + len(phrase)
            before = lowered[start - 1] if start else " "
            after = lowered[end] if end < len(lowered) else " "
            if not before.isalnum() and not after.isalnum():
                spans.append((start, end))
            start = lowered.find(phrase, end)
    return spans


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
_PHONE = re.compile(r"(?<![\w+])(?:\+|\b)[ \t]?\d(?:[ \t.()-]{0,3}\d){6,14}(?!\d)")
# A letter O written for a zero between digits ("07700 9OO 123"): read as 0, same length.
_O_FOR_ZERO = re.compile(r"(?<=\d)[oO](?=[\d\s oO]*\d)")
# A number spelt out ("seven seven zero zero nine..."): as many digits as a phone number.
_DIGIT_WORDS = "zero|oh|o|nought|one|two|three|four|five|six|seven|eight|nine|double|triple"
_SPELT_PHONE = re.compile(
    rf"\b(?:zero|oh|nought)\b[\s,.-]*(?:(?:{_DIGIT_WORDS})\b[\s,.-]*){{8,}}", re.IGNORECASE
)
# Help lines children are told to ring; they are not personal details.
_HELPLINES = frozenset({"08001111", "116123", "116111", "08088005000", "08000684141", "999"})


def _phones(text: str) -> Iterator[Span]:
    for match in _SPELT_PHONE.finditer(text):
        yield (match.start(), match.end(), DetailKind.PHONE)
    previous = None
    while previous != text:  # "9OO": each O follows a digit once the one before is read
        previous, text = text, _O_FOR_ZERO.sub("0", text)  # same length: spans still fit
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


# --- Word lists (data, in redaction_words.yaml beside this module) --------------------

_WORD_LISTS = yaml.safe_load(Path(__file__).with_name("redaction_words.yaml").read_text("utf-8"))
_FUNCTION_WORDS = _words(_WORD_LISTS["function_words"])
_NOT_NAMES = _words(_WORD_LISTS["not_names"])
_SURNAME_WORDS = _words(_WORD_LISTS["surname_words"])
_FIRST_NAMES = _words(_WORD_LISTS["first_names"])
_COMMON_WORDS = _words(_WORD_LISTS["common_words"])
_AMBIGUOUS_LOWERCASE_NAMES = _words(_WORD_LISTS["ambiguous_lowercase_names"])
