"""TOTP secrets at rest: encrypted with a key that is not in the database; the migration
encrypts existing secrets and its downgrade decrypts them; keys can be rotated."""

from __future__ import annotations

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from participation.accounts import crypto
from participation.accounts.models import Role, StaffUser
from participation.migrate import downgrade, upgrade

BEFORE = "3b9e6c2d7a41"
ENCRYPTING = "91a0c6ce9121"


def test_the_key_is_derived_from_the_secret_key_not_stored():
    keyring = crypto.keyring_for({"SECRET_KEY": "one secret key", "TOTP_ENCRYPTION_KEYS": None})
    token = crypto.encrypt("JBSWY3DPEHPK3PXP", keyring)
    assert "JBSWY3DPEHPK3PXP" not in token
    assert crypto.decrypt(token, keyring) == "JBSWY3DPEHPK3PXP"
    other = crypto.keyring_for({"SECRET_KEY": "another secret key"})
    assert crypto.decrypt(token, other) is None


def test_rotation_keeps_old_secrets_readable_until_they_are_re_encrypted():
    old = crypto.keyring_for({"SECRET_KEY": "k"})  # the derived key
    new_key = Fernet.generate_key().decode()
    token = crypto.encrypt("JBSWY3DPEHPK3PXP", old)
    both = crypto.keyring_for({"SECRET_KEY": "k", "TOTP_ENCRYPTION_KEYS": f"{new_key},secret-key"})
    assert crypto.decrypt(token, both) == "JBSWY3DPEHPK3PXP"
    rotated = crypto.rotate(token, both)
    only_new = crypto.keyring_for({"SECRET_KEY": "k", "TOTP_ENCRYPTION_KEYS": new_key})
    assert crypto.decrypt(rotated, only_new) == "JBSWY3DPEHPK3PXP"
    assert crypto.decrypt(token, only_new) is None


def test_a_malformed_key_stops_the_app_with_the_variable_named(tmp_path):
    from flask import Flask

    from participation.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="PARTICIPATION_TOTP_ENCRYPTION_KEYS"):
        load_config(
            Flask("keys", instance_path=str(tmp_path)),
            {
                "SECRET_KEY": "x",
                "DATABASE_URL": "sqlite://",
                "TESTING": True,
                "TOTP_ENCRYPTION_KEYS": "not-a-fernet-key",
            },
        )


def test_the_migration_encrypts_existing_secrets_and_its_downgrade_decrypts_them(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PARTICIPATION_SECRET_KEY", "the production secret key")
    monkeypatch.delenv("PARTICIPATION_TOTP_ENCRYPTION_KEYS", raising=False)
    url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    upgrade(url, BEFORE)
    secret = pyotp.random_base32()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO council (id, name, slug, created_at) "
                "VALUES (1, 'C', 'c', '2026-12-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO staff_user (id, council_id, email, display_name, password_hash, "
                "session_token, totp_secret, active, created_at) VALUES (1, 1, 'a@b.example', "
                "'A', 'x', 't', :secret, 1, '2026-12-01 00:00:00')"
            ),
            {"secret": secret},
        )
    upgrade(url, ENCRYPTING)
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT totp_secret FROM staff_user WHERE id = 1"))
    assert secret not in stored
    keyring = crypto.keyring_for({"SECRET_KEY": "the production secret key"})
    assert crypto.decrypt(stored, keyring) == secret
    downgrade(url, BEFORE)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT totp_secret FROM staff_user WHERE id = 1")) == secret
    engine.dispose()


def test_rotate_command_re_encrypts_every_secret(app, make_user, db_tx, monkeypatch):
    user = make_user(Role.PARTICIPATION_WORKER)
    user.totp_secret = crypto.encrypt("JBSWY3DPEHPK3PXP")
    db_tx.flush()
    new_key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "TOTP_ENCRYPTION_KEYS", f"{new_key},secret-key")
    result = app.test_cli_runner().invoke(args=["users", "rotate-totp-key"])
    assert result.exit_code == 0, result.output
    assert "now encrypted with the first key" in result.output
    db_tx.expire_all()
    stored = db_tx.scalar(select(StaffUser.totp_secret).where(StaffUser.id == user.id))
    only_new = crypto.keyring_for({"SECRET_KEY": "unused", "TOTP_ENCRYPTION_KEYS": new_key})
    assert crypto.decrypt(stored, only_new) == "JBSWY3DPEHPK3PXP"
