"""Settings for the servers and workers the reliability tests start in subprocesses: the production
settings, pointed at the test database, with domain numbers changed through YIXIANG_TEST_OVERRIDES
(JSON) and, when YIXIANG_FAULTS is set, the fault-injection app of these tests."""

import json
import os

from yixiang.settings import *  # noqa: F403
from yixiang.settings import DATABASES, INSTALLED_APPS, YIXIANG

if os.environ.get("YIXIANG_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["YIXIANG_TEST_DB_NAME"]
YIXIANG = {**YIXIANG, **json.loads(os.environ.get("YIXIANG_TEST_OVERRIDES") or "{}")}
if os.environ.get("YIXIANG_FAULTS"):
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.reliability.faults"]
