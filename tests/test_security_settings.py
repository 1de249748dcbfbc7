"""Login throttling, password rules and the production settings check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yixiang.testing import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_api_login_locks_after_repeated_failures(client, org):
    codes = []
    for _ in range(5):
        r = client.post("/api/v1/auth/token", {"username": "rep", "password": "wrong"}, content_type="application/json")
        codes.append(r.status_code)
    assert codes == [401, 401, 401, 401, 429]  # the fifth failure locks
    r = client.post("/api/v1/auth/token", {"username": "rep", "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 429
    assert r.json()["code"] == "locked_out"
    # Another user from the same address is not locked out by rep's failures.
    r = client.post(
        "/api/v1/auth/token", {"username": "teammate", "password": PASSWORD}, content_type="application/json"
    )
    assert r.status_code == 200


@pytest.mark.django_db
def test_web_login_locks_after_repeated_failures(client, org):
    for _ in range(5):
        client.post("/login/", {"username": "rep", "password": "wrong"})
    r = client.post("/login/", {"username": "rep", "password": PASSWORD})
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("password", ["short1", "1234567890123", "password123"])
def test_weak_passwords_refused(password, db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password)


def test_check_deploy_passes_with_production_settings(tmp_path):
    drop = {"DEBUG", "YIXIANG_TESTING", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "HUEY_IMMEDIATE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        YIXIANG_DATA_DIR=str(tmp_path), YIXIANG_HTTPS="1", DEBUG="0", ALLOWED_HOSTS="crm.example.com",
    )  # fmt: skip
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.django_db
def test_pages_are_chinese_first_even_for_english_browsers(client, org):
    client.force_login(org.rep)
    page = client.get("/customers/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    client.cookies["django_language"] = "en"
    page = client.get("/customers/", headers={"Accept-Language": "zh-CN"})
    assert 'lang="en"' in page.content.decode()


@pytest.mark.django_db
def test_api_messages_follow_accept_language(client, org):
    zh = client.post("/api/v1/auth/token", {"username": "rep", "password": "nope"}, content_type="application/json")
    en = client.post(
        "/api/v1/auth/token", {"username": "rep", "password": "nope"}, content_type="application/json",
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert en.json()["detail"] == "Wrong username or password."
    assert zh.json()["detail"] != en.json()["detail"]
