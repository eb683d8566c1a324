"""`check --deploy` with DEBUG off: the HTTPS settings are off by default (http://127.0.0.1 works) and the
environment turns each one on."""

import os
import subprocess
import sys

from django.conf import settings

HTTPS_WARNINGS = ["security.W004", "security.W008", "security.W012", "security.W016"]
HTTPS_ENV = {
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto,https",
}


def check_deploy(**env: str) -> str:
    environment = {**os.environ, "DEBUG": "false", "SECRET_KEY": "deploy-check-" + "k7" * 30, **env}
    for name in HTTPS_ENV:
        environment.setdefault(name, "")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_the_https_settings_are_off_by_default_and_check_deploy_says_so():
    said = check_deploy()
    for warning in HTTPS_WARNINGS:
        assert warning in said, said


def test_the_environment_turns_every_https_setting_on():
    said = check_deploy(**HTTPS_ENV)
    assert "System check identified no issues" in said, said
