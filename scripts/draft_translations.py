"""Fill a language's catalogue with drafted translations, marked as awaiting review.

Drafts are a start for a professional translator, not a replacement: every drafted entry
carries the translator comment "awaiting review" until a translator removes it.
Usage: python scripts/draft_translations.py ar scripts/drafts_ar.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1] / "participation" / "translations"
MARK = "awaiting review: machine-drafted"


def main(locale: str, drafts_file: str) -> None:
    drafts: dict[str, str] = yaml.safe_load(Path(drafts_file).read_text(encoding="utf-8"))
    po_path = ROOT / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalogue = read_po(fh, locale=locale)
    filled = 0
    for message in catalogue:
        if not message.id or (message.string and not message.fuzzy):
            continue
        draft = drafts.get(message.id if isinstance(message.id, str) else message.id[0])
        if draft:
            message.string = draft
            message.flags.discard("fuzzy")  # a guess from a similar old entry: replaced
            if MARK not in message.user_comments:
                message.user_comments.append(MARK)
            filled += 1
    with po_path.open("wb") as fh:
        write_po(fh, catalogue, width=100, omit_header=False)
    print(f"{locale}: {filled} entries drafted")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
