"""Re-encrypt every encrypted field with the primary (first) key of YIXIANG_FIELD_KEYS.

Rotation, on every node: put the new key first (YIXIANG_FIELD_KEYS=new,old), restart, run this
command once, then remove the old key and restart again. ``--generate`` prints a new key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from yixiang.customers.fields import EncryptedTextField, _fernet

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields with the first key of YIXIANG_FIELD_KEYS (key rotation)"

    def add_arguments(self, parser):
        parser.add_argument("--generate", action="store_true", help="print a new key and change nothing")

    def handle(self, *args, generate: bool, **options):
        if generate:
            self.stdout.write(Fernet.generate_key().decode())
            return
        primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
        rotated = current = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            for name in fields:
                r, c = self._rotate(model, name, primary)
                rotated, current = rotated + r, current + c
                if r:
                    self.stdout.write(f"{model._meta.label}.{name}: {r} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{rotated} values re-encrypted, {current} already on the primary key"))

    def _rotate(self, model, name: str, primary: Fernet) -> tuple[int, int]:
        # The ciphertext as stored (a Cast skips the field's decryption).
        rows = model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
        rows = rows.annotate(_raw=Cast(name, TextField())).order_by("pk").values_list("pk", "_raw")
        rotated = current = 0
        last = None
        while True:
            page = list((rows.filter(pk__gt=last) if last is not None else rows)[:BATCH])
            if not page:
                return rotated, current
            last = page[-1][0]
            with transaction.atomic():
                for pk, token in page:
                    try:
                        primary.decrypt(token.encode())
                        current += 1
                        continue
                    except InvalidToken:
                        pass
                    new = _fernet().rotate(token.encode()).decode()  # raises if no key decrypts it
                    # A Value is written as is: no second encryption by the field.
                    model._base_manager.filter(pk=pk).update(**{name: Value(new, output_field=TextField())})
                    rotated += 1
