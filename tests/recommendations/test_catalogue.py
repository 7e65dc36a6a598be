"""The recommendation catalogue: complete, sourced from the seed documents, browsable."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from participation.accounts.models import Role
from participation.recommendations.catalogue import read_catalogue
from participation.recommendations.models import Recommendation

REQUIRED_CODES = {
    "PEP-CHILD-VOICE", "PEP-CARER-VOICE", "PEP-TARGETS", "LESSON-TIME-MEETINGS",
    "REVIEWS-CHILD-LED", "VOICE-ACTED-ON", "SURVEY-BURDEN", "HOMELESSNESS-16-17",
    "WORKER-STABILITY", "CARE-LEAVER-SUPPORT", "UASC-SUPPORT",
}  # fmt: skip


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    return re.sub(r"\s+", " ", text).strip().lower()


def test_catalogue_has_every_required_code_with_all_its_parts():
    entries = {e.code: e for e in read_catalogue()}
    assert set(entries) >= REQUIRED_CODES
    for entry in entries.values():
        assert entry.title and entry.child_text and entry.panel_text
        assert (
            entry.source_document and entry.source_paragraph and 2013 <= entry.source_year <= 2022
        )


def test_each_quote_stands_in_its_seed_document(seeds_dir):
    for entry in read_catalogue():
        document = _plain((seeds_dir / entry.source_file).read_text(encoding="utf-8"))
        for part in entry.source_quote.split("..."):
            part = _plain(part).strip(" .")
            if part:
                assert part in document, (entry.code, part)


def test_child_lines_are_short():
    for entry in read_catalogue():
        words = entry.child_text.split()
        assert len(words) <= 25, entry.code
        assert sum(len(w) for w in words) / len(words) < 5.5, entry.code


def test_catalogue_is_loaded_once_and_reloads_idempotently(db_tx):
    from participation.recommendations.catalogue import load_catalogue

    assert load_catalogue(db_tx) == (0, 0)
    codes = set(db_tx.scalars(select(Recommendation.code)))
    assert codes >= REQUIRED_CODES


@pytest.mark.parametrize("role", list(Role))
def test_all_staff_can_browse_the_catalogue(client, login_as, role):
    login_as(role)
    page = client.get("/staff/recommendations").get_data(as_text=True)
    for code in REQUIRED_CODES:
        assert code in page
    detail = client.get("/staff/recommendations/lesson-time-meetings").get_data(as_text=True)
    assert "missing lessons" in detail


def test_children_cannot_browse_staff_pages(client):
    assert client.get("/staff/recommendations").status_code == 302


def test_an_impossible_code_is_not_found(client, login_as):
    from participation.accounts.models import Role

    login_as(Role.PANEL_MEMBER)
    assert client.get("/staff/recommendations/A%00B").status_code == 404
