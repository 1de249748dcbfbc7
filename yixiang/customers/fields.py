"""Encrypted model field for bank card and ID numbers (Fernet, keys from settings)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: refuse loudly rather than show garbage
        raise ValueError("cannot decrypt field: the field key does not match") from exc


class EncryptedTextField(models.TextField):
    """Stores ciphertext; Python sees plain text. Not searchable or orderable by design."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def mask_number(value: str | None) -> str:
    """6222021234561234 -> '6222 **** **** 1234'; short values keep only the last 2."""
    if not value:
        return ""
    digits = "".join(value.split())
    if len(digits) <= 8:
        return "*" * (len(digits) - 2) + digits[-2:]
    return f"{digits[:4]} **** **** {digits[-4:]}"
