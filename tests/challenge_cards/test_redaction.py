"""Personal details in challenge cards: found generously, help lines left alone, fast."""

from __future__ import annotations

import itertools
import time

import pytest
from markupsafe import Markup

from challenge_cards.redaction import (
    Detail,
    DetailKind,
    find_personal_details,
    highlight,
    redact,
    remaining_hard_details,
)

NAME = DetailKind.NAME
PHONE = DetailKind.PHONE
EMAIL = DetailKind.EMAIL
POSTCODE = DetailKind.POSTCODE
ADDRESS = DetailKind.ADDRESS
SCHOOL = DetailKind.SCHOOL
SOCIAL = DetailKind.SOCIAL


def _found(text: str) -> list[tuple[DetailKind, str]]:
    return [(d.kind, d.text) for d in find_personal_details(text)]


# Each case: what the child wrote, and one detail that must be found exactly.
EXPECTED: list[tuple[str, DetailKind, str]] = [
    # Phones, in the spacings children use.
    ("my number is 07700 900123 text me", PHONE, "07700 900123"),
    ("ring me on 07700900123", PHONE, "07700900123"),
    ("call 07700-900-123 after school", PHONE, "07700-900-123"),
    ("its 0770 090 0123", PHONE, "0770 090 0123"),
    ("my mobile +44 7700 900123.", PHONE, "+44 7700 900123"),
    ("+44 (0)7700 900123 is my phone", PHONE, "+44 (0)7700 900123"),
    ("nans landline is 01622 123456", PHONE, "01622 123456"),
    ("020 7946 0018 is my dads work", PHONE, "020 7946 0018"),
    ("phone 07700.900.123 plz", PHONE, "07700.900.123"),
    ("text me 7700900123 pls", PHONE, "7700900123"),
    # Emails.
    ("email me jade.smith2009@gmail.com", EMAIL, "jade.smith2009@gmail.com"),
    ("my email is kai_w@hotmail.co.uk.", EMAIL, "kai_w@hotmail.co.uk"),
    ("Contact:tom-b@outlook.com thanks", EMAIL, "tom-b@outlook.com"),
    ("its jade at gmail dot com", EMAIL, "jade at gmail dot com"),
    # Postcodes.
    ("I live in ME14 1AA", POSTCODE, "ME14 1AA"),
    ("postcode me141aa", POSTCODE, "me141aa"),
    ("we moved to sw1a 1aa last year", POSTCODE, "sw1a 1aa"),
    ("my area is ME14 and its boring", POSTCODE, "ME14"),
    ("the buses in ct9 are rubbish", POSTCODE, "ct9"),
    ("E1 6AN", POSTCODE, "E1 6AN"),
    # Addresses.
    ("i live at 12 Oak Road with my carer", ADDRESS, "12 Oak Road"),
    ("my house is 4 church lane", ADDRESS, "4 church lane"),
    ("Flat 3, 5 high st", ADDRESS, "Flat 3, 5 high st"),
    ("I live in apt 4 now", ADDRESS, "apt 4"),
    ("number 22 on Church Lane is my foster home", ADDRESS, "22 on Church Lane"),
    ("come to 7a Victoria Avenue", ADDRESS, "7a Victoria Avenue"),
    ("I live on Meadow Close near the shop", ADDRESS, "Meadow Close"),
    ("i live on oak road", ADDRESS, "oak road"),
    ("apartment 12 at the hostel", ADDRESS, "apartment 12"),
    ("my placement is at 101 Station Rd.", ADDRESS, "101 Station Rd."),
    # Schools.
    ("I go to St Mary's Primary and its ok", SCHOOL, "St Mary's Primary"),
    ("Oakwood Academy dont let us use phones", SCHOOL, "Oakwood Academy"),
    ("i want to stay at Kent College", SCHOOL, "Kent College"),
    ("i go highfield school", SCHOOL, "highfield school"),
    ("Highfield school is too far", SCHOOL, "Highfield school"),
    ("moving from st marys primary school", SCHOOL, "st marys primary school"),
    ("The Malling School wont let me", SCHOOL, "Malling School"),
    ("I got into Maidstone Grammar", SCHOOL, "Maidstone Grammar"),
    ("Brook Infants was my best school", SCHOOL, "Brook Infants"),
    ("i go to oakfield acadamy", SCHOOL, "oakfield acadamy"),
    # Social media names.
    ("add me @jade_x", SOCIAL, "@jade_x"),
    ("my snap is kaiboi09", SOCIAL, "kaiboi09"),
    ("insta: jade.w", SOCIAL, "jade.w"),
    ("tiktok @xyz", SOCIAL, "@xyz"),
    ("my snapchat name is jadey", SOCIAL, "jadey"),
    ("add me on snap: lil_k", SOCIAL, "lil_k"),
    ("my gamertag is KaiGamer", SOCIAL, "KaiGamer"),
    # Names after cues, in any case; the cue itself is never in the span.
    ("my name is Jade and I want a say", NAME, "Jade"),
    ("my name is jade", NAME, "jade"),
    ("my names kayden", NAME, "kayden"),
    ("I'm Jade and I am 14", NAME, "Jade"),
    ("im kayden and i want more money", NAME, "kayden"),
    ("Hi im Tia", NAME, "Tia"),
    ("my sw sarah never rings back", NAME, "sarah"),
    ("my social worker is called Bob", NAME, "Bob"),
    ("my foster carer Donna is nice", NAME, "Donna"),
    ("my iro kerry-ann didnt come", NAME, "kerry-ann"),
    ("my little brother tyreece misses me", NAME, "tyreece"),
    ("Mrs Patel said no", NAME, "Patel"),
    ("ask miss okafor", NAME, "okafor"),
    ("a boy called Deshawn pushed me", NAME, "Deshawn"),
    ("my nan's name is Pat", NAME, "Pat"),
    ("my sw sarah jones said no", NAME, "sarah jones"),
    # Names without a cue: capitalised mid-sentence, full names as one span.
    ("me and Jade Smith want a skate park", NAME, "Jade Smith"),
    ("i told Tyrese about the meeting", NAME, "Tyrese"),
    ("Jade said the bus is late", NAME, "Jade"),
    ("me and jade went to town", NAME, "jade"),
    ("the meeting with Oluwaseun was good", NAME, "Oluwaseun"),
    ("we asked Zoë and nobody replied", NAME, "Zoë"),
    ("Kayden Brooks stole my phone", NAME, "Kayden Brooks"),
    ("I want to see Grace more", NAME, "Grace"),
    ("JADE is my best friend", NAME, "JADE"),
    ("the IRO Mr O'Connor never listens", NAME, "O'Connor"),
]


@pytest.mark.parametrize(("text", "kind", "span"), EXPECTED, ids=[c[0][:40] for c in EXPECTED])
def test_finds_detail_with_exact_span(text: str, kind: DetailKind, span: str) -> None:
    details = find_personal_details(text)
    assert (kind, span) in [(d.kind, d.text) for d in details]
    for detail in details:
        assert text[detail.start : detail.end] == detail.text


# Help lines are for children to use; a worker must not be told to remove them.
HELPLINES = [
    "if you are in danger ring 999",
    "call Childline on 0800 1111 its free",
    "Samaritans are on 116 123 any time",
    "ring 0800 1111 or text shout",
    "NSPCC 0808 800 5000",
    "ring 111 if you are poorly or 999",
    "Childline 08001111",
]


@pytest.mark.parametrize("text", HELPLINES)
def test_help_lines_are_not_flagged(text: str) -> None:
    assert [d for d in find_personal_details(text) if d.kind is PHONE] == []


# Things children write that look like details but are not.
NOT_DETAILS = [
    ("we waited 2 hours on the road", ADDRESS),
    ("the bus takes 45 minutes down the road", ADDRESS),
    ("I have 2 dogs walk them every day", ADDRESS),
    ("I miss home", NAME),
    ("called the police", NAME),
    ("my mum is nice", NAME),
    ("my sw is always busy", NAME),
    ("I'm scared of court", NAME),
    ("see u l8r m8", POSTCODE),
    ("we need to cut CO2 from the buses", POSTCODE),
    ("I want a PS5 for my room", POSTCODE),
    ("Year 11 exams on 07/06/2025 at 09.30", PHONE),
    ("it costs £1200 a year", PHONE),
    ("going to the Family Court next week", ADDRESS),
    ("the Virtual School should help with tutoring", SCHOOL),
    ("my school is too strict", SCHOOL),
    ("after school club is closing", SCHOOL),
    ("i want to go to college", SCHOOL),
    ("my snapchat got hacked", SOCIAL),
    ("meet me @ the park", SOCIAL),
]


@pytest.mark.parametrize(("text", "kind"), NOT_DETAILS)
def test_look_alikes_are_not_flagged(text: str, kind: DetailKind) -> None:
    assert [d for d in find_personal_details(text) if d.kind is kind] == []


# Realistic cards with nothing to remove.
CLEAN_CARDS = [
    "The bus to college is too expensive for care leavers",
    "We want wifi in the Thursday group room",
    "Reviews should not be in lesson time",
    "I want to see my brother more than once a month",
    "Social workers keep changing and we have to tell our story again",
    "Please stop holding meetings about us in school where everyone can see",
    "Pocket money should go up because everything costs more now",
    "We should get a say in who our Foster Carers are",
    "Care leavers need help with council tax until they are 25",
    "The youth club should open on Saturdays",
    "My PEP meeting was at the same time as my maths exam",
    "Can the Council give us free bus passes to get to college and work",
    "I want my IRO to talk to me before the review not after",
    "We want more activities in the summer holidays like trips to the beach",
    "Nobody told me when my contact with my mum was cancelled",
    "Staff in the children's home should knock before coming in",
    "Young people should be able to have sleepovers at friends without checks",
    "The forms are too long and use words we dont understand",
    "We need a phone when we move into our own flat",
    "Can there be a drop in at the Hub after school on Wednesdays",
    "Leaving care workers should help with driving lessons",
    "It takes too long to get a reply from CAMHS",
    "I want to choose my own clothes with my clothing allowance",
    "Please let us bring a friend to our reviews",
    "we should be asked before we get moved to a new placement",
    "the food at the residential home is rubbish we want to cook",
    "Give us laptops for homework because the library closes at 5",
    "Ofsted should talk to us not just the managers",
    "Our Pathway Plan should be written with us in plain English",
    "In November we had no heating for two weeks",
    "We want Christmas presents we actually asked for",
    "Apprenticeships should pay enough to live on when you leave care",
    "Can the NHS dentist see us faster, I waited a year",
    "Leaving Care team should reply to emails within a week",
    "More Mental Health support in school please",
    "I would like my Social Worker to visit when I am not at school",
    "When we turn 18 we lose everything at once, it should be slower",
    "The Children in Care Council wants a budget for events",
    "We need Wifi that works in every room not just downstairs",
    "the bus pass should work on trains too",
    "I want help opening a bank account and getting ID",
    "Stop putting us in hotels and B&Bs when we turn 16",
    "Why do we need permission from a Social Worker for a haircut",
    "Uniform grants should cover shoes and a coat",
    "Virtual School should pay for a tutor for GCSE maths",
]


@pytest.mark.parametrize("text", CLEAN_CARDS, ids=[c[:40] for c in CLEAN_CARDS])
def test_clean_card_has_no_hard_detail(text: str) -> None:
    assert [d for d in find_personal_details(text) if d.kind is not NAME] == []


def test_clean_cards_rarely_have_a_name() -> None:
    with_names = [t for t in CLEAN_CARDS if find_personal_details(t)]
    assert len(CLEAN_CARDS) >= 30
    assert len(with_names) <= len(CLEAN_CARDS) // 10, with_names


@pytest.mark.parametrize(
    "text",
    [
        "",
        "We want more say in our reviews.",
        "the skate park is broken",
        "12345",
        "!!!???",
        "I am 15 and I want to go to uni",
    ],
)
def test_ordinary_text_has_no_details(text: str) -> None:
    assert find_personal_details(text) == []


def test_findings_are_sorted_exact_and_disjoint() -> None:
    text = (
        "Hi my name is Jade Smith, I live at flat 2, 14 Oak Road ME14 1AA. "
        "Text 07700 900123 or jade@gmail.com, snap jade_x09. I go to Oakwood Academy."
    )
    details = find_personal_details(text)
    assert {d.kind for d in details} == set(DetailKind)
    for before, after in itertools.pairwise(details):
        assert before.end <= after.start
    for detail in details:
        assert text[detail.start : detail.end] == detail.text
    assert (NAME, "Jade Smith") in _found(text)
    assert (ADDRESS, "flat 2, 14 Oak Road") in _found(text)


def test_overlapping_findings_merge_to_the_more_specific_kind() -> None:
    # "jade" would be a name, but inside an email the email wins and covers it all.
    assert _found("email jade@gmail.com") == [(EMAIL, "jade@gmail.com")]


def test_highlight_escapes_html_and_marks_details() -> None:
    text = "<script>alert(1)</script> my name is Jade & ring 07700 900123"
    html = highlight(text, find_personal_details(text))
    assert isinstance(html, Markup)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html
    assert '<mark class="pii pii-name" title="name">Jade</mark>' in html
    assert '<mark class="pii pii-phone" title="phone">07700 900123</mark>' in html


def test_highlight_escapes_html_inside_a_detail() -> None:
    text = "x"
    detail = Detail(NAME, 0, 1, "x")
    assert highlight("<b>" + text, [Detail(NAME, 3, 4, "x")]) == Markup(
        '&lt;b&gt;<mark class="pii pii-name" title="name">x</mark>'
    )
    assert highlight(text, [detail, detail]).count("<mark") == 1


def test_highlight_without_details_is_only_escaped() -> None:
    assert highlight("a < b", []) == Markup("a &lt; b")


def test_redact_replaces_every_detail() -> None:
    text = (
        "my name is Jade, my sw sarah, 12 Oak Road ME14 1AA, 07700 900123, "
        "jade@gmail.com, @jade_x, Oakwood Academy"
    )
    public = redact(text)
    assert public == (
        "my name is [name], my sw [name], [address] [postcode], [phone number], "
        "[email address], [social media name], [school]"
    )
    assert find_personal_details(public) == []


def test_redact_uses_given_details() -> None:
    text = "ring 07700 900123 Jade"
    only_phone = [d for d in find_personal_details(text) if d.kind is PHONE]
    assert redact(text, only_phone) == "ring [phone number] Jade"
    assert redact(text, []) == text


def test_remaining_hard_details_finds_a_phone_left_in() -> None:
    public = "The [name] group wants the bus changed. Ring me 07700 900123."
    assert [(d.kind, d.text) for d in remaining_hard_details(public)] == [(PHONE, "07700 900123")]


def test_remaining_hard_details_ignores_placeholders_and_clean_text() -> None:
    assert remaining_hard_details("We want a skate park. Thanks, [name]") == []
    for text in CLEAN_CARDS:
        assert remaining_hard_details(text) == [], text


# A person's name blocks publishing: after a cue, with a known first name, or in full.
BLOCKING_NAMES = [
    ("Ask Sarah Jones about it", "Sarah Jones"),
    ("Sarah Jones", "Sarah Jones"),
    ("Jade and Tyrese want a skate park", "Jade"),
    ("Jade and Tyrese want a skate park", "Tyrese"),
    ("Tell Mrs Patel the bus is late", "Patel"),
    ("tell mrs patel the bus is late", "patel"),
    ("my sw kerry said no", "kerry"),
    ("a boy called Deshawn pushed me", "Deshawn"),
    ("Grace Smith wants a bike", "Grace Smith"),
    ("ask jade about the bus", "jade"),
    ("Children want Bob to stop shouting", "Bob"),
    ("The IRO Mr O'Connor should listen", "O'Connor"),
]


@pytest.mark.parametrize(("text", "name"), BLOCKING_NAMES)
def test_a_persons_name_blocks_publishing(text: str, name: str) -> None:
    assert (NAME, name) in [(d.kind, d.text) for d in remaining_hard_details(text)]


# Capitalised words that are not people, and the council's own service names, do not block.
NOT_BLOCKING = [
    ("Care leavers want help with Universal Credit", ()),
    ("Children want the Participation Team to visit in the Easter holidays", ()),
    ("Children want the Hub to open on Saturdays", ()),
    ("We want Netflix and Wifi in the lounge", ()),
    ("Young people want a say in who their Personal Adviser is", ()),
    ("The Leaving Care Team should reply within a week", ()),
    ("The Virtual School should pay for a tutor", ("Virtual School",)),
    ("Kent Housing should help care leavers with deposits", ("Kent Housing",)),
    ("Oakwood Academy should let us use phones", ("Oakwood Academy",)),
]


@pytest.mark.parametrize(("text", "allowed"), NOT_BLOCKING)
def test_ordinary_capitals_and_service_names_do_not_block(text: str, allowed: tuple) -> None:
    assert remaining_hard_details(text, allowed) == []


def test_an_allowed_name_covers_only_itself() -> None:
    text = "Oakwood Academy should ask Sarah Jones, 07700 900123"
    left = [(d.kind, d.text) for d in remaining_hard_details(text, ["Oakwood Academy"])]
    assert left == [(NAME, "Sarah Jones"), (PHONE, "07700 900123")]
    # A council name is matched as whole words, never as the start of a longer word.
    assert remaining_hard_details("Oakwood Academy rules", ["Oak"]) != []


@pytest.mark.parametrize(
    "text",
    [
        "ring me \x00 07700 900123 \x00",
        "😀😀 my name is Jade 😀 ring 07700 900123 🙏",
        "\x00" * 1000,
        "@@@@ @ @. a@ @b",
        "🏳️‍🌈 Pride month 🏳️‍🌈",
    ],
)
def test_odd_characters_do_not_break_it(text: str) -> None:
    details = find_personal_details(text)
    for detail in details:
        assert text[detail.start : detail.end] == detail.text
    assert isinstance(redact(text), str)
    highlight(text, details)


def test_emoji_and_nul_keep_offsets() -> None:
    text = "😀\x00 my name is Jade 😀 07700 900123"
    assert _found(text) == [(NAME, "Jade"), (PHONE, "07700 900123")]


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "1" * 100_000,
        "1 " * 50_000,
        "A " * 50_000,
        "@" * 100_000,
        "a@" * 50_000,
        "a." * 50_000 + "@",
        " " * 100_000 + "12",
        "12" + " " * 100_000 + "Road",
        "12" + " " * 50_000 + "," + " " * 50_000 + "Road",
        "my" + " " * 100_000 + "sw",
        "x" + "\t" * 100_000 + "at gmail.com",
        "snap is " * 12_500,
        "my name is " * 9_000,
        "Oak " * 25_000 + "School",
        ("My sw Sarah Jones at 12 Oak Road ME14 1AA 07700 900123 said Oakwood Academy. ") * 1_300,
    ],
    ids=lambda t: f"{t[:12]!r}x{len(t)}",
)
def test_long_text_is_fast(text: str) -> None:
    started = time.perf_counter()
    find_personal_details(text)
    assert time.perf_counter() - started < 3.0


@pytest.mark.parametrize(
    "text",
    [
        "ring 07700 9OO 123",  # letter O for zero
        "0 7 7 0 0 - 9 0 0 - 1 2 3",  # spaced out
        "call zero seven seven zero zero nine zero zero one two three",  # spelt out
    ],
)
def test_a_disguised_phone_number_is_still_a_phone_number(text: str) -> None:
    # Found by an outside tester: these were published on "you said, we did".
    assert [d.kind for d in find_personal_details(text)] == [DetailKind.PHONE]


def test_counting_in_words_is_not_a_phone_number() -> None:
    assert find_personal_details("we counted one two three four five six seven eight nine") == []
