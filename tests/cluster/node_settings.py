"""Settings of the two-node test's app nodes and consumers: the reliability tests' subprocess
settings (the test database), the test's fast password hasher readable, and the clock app on the
consumers (YIXIANG_TEST_CLOCK)."""

import os

from tests.reliability.subprocess_settings import *  # noqa: F403
from tests.reliability.subprocess_settings import INSTALLED_APPS

# Users are made by the test process with its MD5 hasher; the nodes must be able to check them.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
if os.environ.get("YIXIANG_TEST_CLOCK"):
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.cluster.clock.apps.ClockConfig"]
# Pages render without a `collectstatic` run (the production manifest is not built for tests).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
ROOT_URLCONF = "tests.cluster.node_urls"
