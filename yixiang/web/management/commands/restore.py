from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yixiang.backup import restore


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
            restore(src)
        except Exception as exc:
            raise CommandError(f"restore failed, nothing was changed: {exc}") from exc
        self.stdout.write(f"Restored from {src}.")
