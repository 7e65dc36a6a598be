"""Languages: choosing the locale, text direction, compiling message catalogues."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_request_context, request

from participation.config import RTL_LANGUAGES

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_COOKIE = "cv_lang"


def select_locale() -> str:
    """The language the person chose (cookie), else what their browser prefers, else English."""
    if not has_request_context():  # command line, background jobs
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    return str(request.accept_languages.best_match(list(languages)) or "en")


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in RTL_LANGUAGES else "ltr"


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every .po into a .mo beside it when the .mo is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalogue = read_po(fh, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalogue)
        written.append(mo_path)
    return written
