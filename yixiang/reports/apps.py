from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "yixiang.reports"
    label = "reports"

    def ready(self) -> None:
        # tasks.py listens to the digests planned by services (and registers the periodic jobs).
        from yixiang.reports import tasks  # noqa: F401
