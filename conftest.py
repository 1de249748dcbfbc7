"""Test-wide setup: a throw-away data folder, background tasks run inline, fast password hashing."""

# The environment itself is set by yixiang.testing_env, loaded with -p before Django starts.


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


import pytest  # noqa: E402


@pytest.fixture
def org(db):
    from yixiang.testing import make_org

    return make_org()


@pytest.fixture
def api_as():
    from yixiang.testing import ApiClient

    return ApiClient
