"""Loaded by pytest with ``-p`` before Django is set up: a throw-away data folder, inline tasks."""

import os
import tempfile

os.environ.setdefault("YIXIANG_DATA_DIR", tempfile.mkdtemp(prefix="yixiang-test-"))
os.environ["HUEY_IMMEDIATE"] = "1"
os.environ["YIXIANG_TESTING"] = "1"
# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the same
# test are still plain synchronous code, so Django's async-safety guard is lifted under test.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
