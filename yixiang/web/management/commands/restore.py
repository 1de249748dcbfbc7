from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yixiang.backup import backup, check, ext, restore


class Command(BaseCommand):
    help = "Replace the database's contents with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, file: str, yes: bool, **options):
        src = Path(file)
        if not src.exists():
            raise CommandError(f"{src} does not exist")
        if not yes:
            answer = input(f"Replace ALL current data with {src}? Type 'yes': ")
            if answer.strip() != "yes":
                raise CommandError("cancelled")
        try:
            check(src)
            # The current database goes aside first, so a wrong file can be undone (restore it back).
            aside = backup(settings.DATA_DIR / "backups" / f"before-restore-{timezone.now():%Y%m%d-%H%M%S-%f}.{ext()}")
            restore(src)
        except Exception as exc:
            raise CommandError(f"restore failed, nothing was changed: {exc}") from exc
        self.stdout.write(f"Restored from {src}. The database as it was is kept in {aside}.")
        self.stdout.write("Run `manage.py migrate` if the backup comes from an older version.")
