"""TOTP secrets encrypted at rest, with keys that never live in the database.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) through MultiFernet: the
first key encrypts, every key decrypts, so keys can be rotated without a flag day.
The keys come from ``PARTICIPATION_TOTP_ENCRYPTION_KEYS`` (comma-separated Fernet keys;
the word ``secret-key`` stands for the key derived from the secret key), or, when that is
not set, from a key derived from ``PARTICIPATION_SECRET_KEY`` with HKDF-SHA256. A copy of
the database alone (a backup, a leaked dump) then holds no usable second factor.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DERIVED = "secret-key"


class TotpKeyError(ValueError):
    """A key setting that cannot be used; the message names it."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from the app's secret key (HKDF-SHA256, a fixed context)."""
    raw = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"child-voice/totp-secret-encryption",
        info=b"fernet key v1",
    ).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


def parse_keys(setting: str | None, secret_key: str) -> list[bytes]:
    """The keys in order (the first encrypts); raises TotpKeyError for a malformed one."""
    if not setting or not setting.strip():
        return [derived_key(secret_key)]
    keys: list[bytes] = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        key = derived_key(secret_key) if item == DERIVED else item.encode("ascii", "replace")
        try:
            Fernet(key)
        except ValueError:
            raise TotpKeyError(
                "PARTICIPATION_TOTP_ENCRYPTION_KEYS must be Fernet keys (32 url-safe "
                "base64-encoded bytes each, from `flask --app wsgi users new-totp-key`) "
                f"or '{DERIVED}', separated by commas"
            ) from None
        keys.append(key)
    if not keys:
        return [derived_key(secret_key)]
    return keys


def keyring_for(config: Mapping[str, Any]) -> MultiFernet:
    keys = parse_keys(config.get("TOTP_ENCRYPTION_KEYS"), str(config["SECRET_KEY"]))
    return MultiFernet([Fernet(k) for k in keys])


def _keyring() -> MultiFernet:
    from participation.links import site_app

    return keyring_for(site_app().config)


def encrypt(plain: str, keyring: MultiFernet | None = None) -> str:
    return (keyring or _keyring()).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str, keyring: MultiFernet | None = None) -> str | None:
    """The plain secret, or None when no configured key opens it (a lost or wrong key)."""
    try:
        return (keyring or _keyring()).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None


def rotate(token: str, keyring: MultiFernet | None = None) -> str:
    """``token`` re-encrypted with the first key (raises InvalidToken if no key opens it)."""
    return (keyring or _keyring()).rotate(token.encode("ascii")).decode("ascii")


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def keyring_from_environment() -> MultiFernet:
    """For migrations run without the app: the same keys the app would use.

    Reads PARTICIPATION_TOTP_ENCRYPTION_KEYS and PARTICIPATION_SECRET_KEY, then the
    instance's ``secret_key`` file, as ``participation.config`` does.
    """
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("SECRET_KEY"):
        return keyring_for(current_app.config)
    secret = os.environ.get("PARTICIPATION_SECRET_KEY", "").strip()
    if not secret:
        from flask import Flask

        instance = Path(Flask("participation", instance_relative_config=True).instance_path)
        key_file = instance / "secret_key"
        if not key_file.exists():
            raise RuntimeError(
                "TOTP secrets need a key to be encrypted: set PARTICIPATION_SECRET_KEY "
                "(and PARTICIPATION_TOTP_ENCRYPTION_KEYS if you use it) for the migration"
            )
        secret = key_file.read_text().strip()
    return keyring_for(
        {
            "SECRET_KEY": secret,
            "TOTP_ENCRYPTION_KEYS": os.environ.get("PARTICIPATION_TOTP_ENCRYPTION_KEYS"),
        }
    )
