"""The one config pattern: each app keeps its DEFAULTS beside its code and reads them through
``reader`` — ``settings.YIXIANG[name]`` when given, else the app's default. Read at call time, so a
test's ``settings`` override applies at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings


def reader(defaults: Mapping[str, Any]) -> Callable[[str], Any]:
    """The ``conf(name)`` of an app whose defaults are ``defaults`` (an unknown name is a KeyError)."""

    def conf(name: str) -> Any:
        return getattr(settings, "YIXIANG", {}).get(name, defaults[name])

    return conf
