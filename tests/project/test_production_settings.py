"""`check --deploy` with DEBUG off: the HTTPS settings are off by default (http://127.0.0.1 works) and the
environment turns each one on. The read replicas that ``DATABASE_REPLICA_URLS`` configures."""

import json
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


def settings_in_subprocess(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import json; from config import settings; {code}"],
        cwd=settings.BASE_DIR, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_database_replica_urls_become_replica_aliases_with_the_primarys_pool():
    urls = "postgres://reader@replica-a:5433/storefront,postgres://reader@replica-b/storefront?connect_timeout=3"
    code = "print(json.dumps([settings.DATABASE_REPLICAS, settings.DATABASES, settings.DATABASE_ROUTERS], default=str))"

    result = settings_in_subprocess(code, DATABASE_REPLICA_URLS=urls, DATABASE_POOL_MAX_SIZE="4")
    replicas, databases, routers = json.loads(result.stdout)

    assert replicas == ["replica_1", "replica_2"]
    assert routers == ["config.replicas.ReplicaRouter"]
    first, second = databases["replica_1"], databases["replica_2"]
    assert (first["HOST"], first["PORT"], first["NAME"], first["USER"]) == ("replica-a", 5433, "storefront", "reader")
    assert first["OPTIONS"]["pool"] == second["OPTIONS"]["pool"] == databases["default"]["OPTIONS"]["pool"]
    assert second["OPTIONS"]["connect_timeout"] == 3
    assert first["TEST"] == {"MIRROR": "default"}, "tests read the test database through every alias"


def test_without_replica_urls_there_is_the_primary_only():
    code = "print(json.dumps([settings.DATABASE_REPLICAS, list(settings.DATABASES)]))"

    result = settings_in_subprocess(code, DATABASE_REPLICA_URLS="")

    assert json.loads(result.stdout) == [[], ["default"]]


def test_a_replica_url_of_another_database_engine_is_refused():
    result = settings_in_subprocess("", DATABASE_REPLICA_URLS="mysql://reader@replica/storefront")

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS lists PostgreSQL servers" in result.stderr
