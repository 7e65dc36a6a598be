"""Languages: the switcher, right-to-left layout, translated words."""

from __future__ import annotations


def test_choosing_arabic_turns_the_page_right_to_left(client, csrf):
    response = client.post(
        "/language", data={"language": "ar", "next": "/join", "csrf_token": csrf()}
    )
    assert response.headers["Location"] == "/join"
    page = client.get("/join").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "انضم" in page  # "Join", from the Arabic catalogue


def test_browser_language_is_used_until_a_choice_is_made(client):
    page = client.get("/join", headers={"Accept-Language": "ar,en;q=0.5"}).get_data(as_text=True)
    assert 'dir="rtl"' in page


def test_english_is_the_default(client):
    page = client.get("/join").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page


def test_an_unknown_language_is_ignored(client, csrf):
    client.post("/language", data={"language": "xx", "next": "/join", "csrf_token": csrf()})
    assert '<html lang="en"' in client.get("/join").get_data(as_text=True)


def test_help_numbers_stay_left_to_right_and_can_be_tapped(client, csrf):
    client.post("/language", data={"language": "ar", "next": "/join", "csrf_token": csrf()})
    page = client.get("/join").get_data(as_text=True)
    assert '<bdi dir="ltr"><a href="tel:08001111">0800 1111</a></bdi>' in page
    assert '<a href="tel:999">999</a>' in page


def test_times_are_shown_in_london_time_the_british_way(app):
    from datetime import UTC, datetime

    from participation import format_when

    with app.test_request_context():
        assert format_when(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "1 Jul 2026, 13:00"
        assert format_when(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), short=True) == "1 Dec, 12:00"


def test_the_help_page_is_in_arabic_for_an_arabic_speaker(client, csrf):
    client.post("/language", data={"language": "ar", "next": "/help", "csrf_token": csrf()})
    page = client.get("/help").get_data(as_text=True)
    assert "احصل على المساعدة الآن" in page and 'dir="rtl"' in page


def test_pashto_is_offered_and_runs_right_to_left(client, csrf):
    assert "پښتو" in client.get("/join").get_data(as_text=True)
    client.post("/language", data={"language": "ps", "next": "/join", "csrf_token": csrf()})
    page = client.get("/join").get_data(as_text=True)
    assert '<html lang="ps" dir="rtl">' in page and "خپلې ډلې سره یوځای شئ" in page


def test_every_drafted_translation_is_marked_for_review():
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2] / "participation" / "translations"
    for locale in ("ar", "ps"):
        with (root / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalogue = read_po(fh, locale=locale)
        drafted = [m for m in catalogue if m.id and m.string]
        assert drafted, locale
        for message in drafted:
            assert "awaiting review: machine-drafted" in message.user_comments, message.id
