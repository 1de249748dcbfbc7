from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from yixiang.backup import backup, ext


class Command(BaseCommand):
    help = "Write a consistent backup of the database (SQLite online backup or pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: DATA_DIR/backups/yixiang-<time>.<ext>)")

    def handle(self, *args, output: str | None, **options):
        dest = (
            Path(output)
            if output
            else settings.DATA_DIR / "backups" / f"yixiang-{timezone.now():%Y%m%d-%H%M%S}.{ext()}"
        )
        backup(dest)
        self.stdout.write(f"Backup written to {dest} ({dest.stat().st_size} bytes).")
        self.stdout.write("Keep the field-encryption key (field.key or YIXIANG_FIELD_KEY) with it: without it, "
                          "bank card and ID numbers cannot be read.")  # fmt: skip
