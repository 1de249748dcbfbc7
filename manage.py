#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yixiang.settings")
    from django.core.management import execute_from_command_line

    from yixiang.env import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:  # a bad or missing setting: its message, not a traceback
        sys.exit(f"Yixiang configuration error: {exc}")
