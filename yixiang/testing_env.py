"""Loaded by pytest with ``-p`` before Django is set up: a throw-away data folder, inline tasks."""

import os
import tempfile

os.environ.setdefault("YIXIANG_DATA_DIR", tempfile.mkdtemp(prefix="yixiang-test-"))
os.environ["HUEY_IMMEDIATE"] = "1"
os.environ["YIXIANG_TESTING"] = "1"
