from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "yixiang.aftercare"
    label = "aftercare"

    def ready(self) -> None:
        # aftercare listens to the pipeline (signing, the agenda) instead of the pipeline calling it,
        # and tasks.py listens to campaign launches.
        from yixiang.aftercare import receivers, tasks  # noqa: F401
