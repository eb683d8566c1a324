"""The deployment files, checked without a Docker engine: docker-compose.yml's wiring, the Dockerfile's steps."""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "embedding-worker", "beat"]
WORKERS = ["worker", "embedding-worker"]
OPERATOR_ENV = {"SECRET_KEY": "a-long-random-production-key"}  # All an operator must set.


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise ValueError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", replace, value)


def environment(service: str, env: Mapping[str, str] = OPERATOR_ENV) -> dict[str, str]:
    return {name: interpolate(str(value), env) for name, value in SERVICES[service]["environment"].items()}


def command(service: str) -> str:
    value = SERVICES[service]["command"]
    return value if isinstance(value, str) else shlex.join(value)


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    instructions = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(keyword.upper(), arguments) for keyword, arguments in instructions]


def test_the_stack_has_a_database_a_broker_the_web_app_workers_and_the_scheduler() -> None:
    assert set(SERVICES) == {"db", "redis", "web", "worker", "embedding-worker", "beat"}


def test_the_database_is_postgres_with_pgvector_on_a_named_volume() -> None:
    db = SERVICES["db"]
    assert db["image"].startswith("pgvector/pgvector:pg")
    assert "postgres-data:/var/lib/postgresql/data" in db["volumes"]
    assert "postgres-data" in COMPOSE["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_redis_reports_its_health() -> None:
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_start_once_the_database_and_broker_are_healthy(service: str) -> None:
    healthy = {"condition": "service_healthy"}
    assert SERVICES[service]["depends_on"] == {"db": healthy, "redis": healthy}


@pytest.mark.parametrize("service", APP_SERVICES)
@pytest.mark.parametrize("password", ["", "Xq7-correct_horse.battery~staple"])
def test_database_url_points_at_the_db_service_with_its_credentials(service: str, password: str) -> None:
    env = {**OPERATOR_ENV, "POSTGRES_PASSWORD": password}
    db_env = {name: interpolate(value, env) for name, value in SERVICES["db"]["environment"].items()}

    config = dj_database_url.parse(environment(service, env)["DATABASE_URL"])

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"]) == ("db", 5432)
    assert config["NAME"] == db_env["POSTGRES_DB"]
    assert config["USER"] == db_env["POSTGRES_USER"]
    assert config["PASSWORD"] == db_env["POSTGRES_PASSWORD"] != ""


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_broker_is_the_redis_service(service: str) -> None:
    broker = urlparse(environment(service)["CELERY_BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_shared_cache_is_another_database_of_the_redis_service(service: str) -> None:
    cache = urlparse(environment(service)["CACHE_URL"])
    assert (cache.scheme, cache.hostname, cache.port) == ("redis", "redis", 6379)
    assert cache.path != urlparse(environment(service)["CELERY_BROKER_URL"]).path, "not the broker's queues"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_secret_key_must_be_given(service: str) -> None:
    assert environment(service)["SECRET_KEY"] == OPERATOR_ENV["SECRET_KEY"]
    with pytest.raises(ValueError, match="SECRET_KEY"):
        environment(service, {})


def test_web_and_worker_share_the_media_volume_and_see_the_dataset() -> None:
    assert "media" in COMPOSE["volumes"]
    for service in APP_SERVICES:
        env = environment(service)
        volumes = SERVICES[service]["volumes"]
        assert f"media:{env['MEDIA_ROOT']}" in volumes
        dataset_mounts = [volume for volume in volumes if volume.endswith(":/data:ro")]
        assert len(dataset_mounts) == 1
        assert env["CATALOG_DATASET_DIR"].startswith("/data/")


def test_web_migrates_then_serves_the_wsgi_app_on_port_8000() -> None:
    web = command("web")
    assert re.search(r"manage\.py migrate --noinput && exec gunicorn config\.wsgi .*--bind 0\.0\.0\.0:8000", web)
    assert [port.split(":")[-1] for port in SERVICES["web"]["ports"]] == ["8000"]


def queues(service: str) -> list[str]:
    """The queues a worker service consumes (its ``-Q``)."""
    args = shlex.split(command(service))
    return args[args.index("-Q") + 1].split(",")


@pytest.mark.parametrize("service", WORKERS)
def test_workers_run_celery_for_the_config_app(service: str) -> None:
    # One worker process: ONNX Runtime already uses every core for one batch.
    assert command(service).startswith("celery -A config worker -l info --concurrency 1 -Q ")
    assert "ports" not in SERVICES[service]


def test_the_embedding_worker_takes_the_embeddings_and_the_worker_the_rest() -> None:
    assert queues("embedding-worker") == ["embeddings"]
    assert "embeddings" not in queues("worker")
    # Every queue of the settings has a worker here, but training's: its jobs need torch, which the image lacks.
    assert set(queues("worker")) | set(queues("embedding-worker")) == set(settings.CELERY_TASK_QUEUES) - {"training"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE in queues("worker")


def test_the_header_shows_how_to_scale_the_embedding_workers() -> None:
    assert "docker compose up -d --scale embedding-worker=" in (ROOT / "docker-compose.yml").read_text()


def test_beat_runs_the_schedule_of_the_settings() -> None:
    assert command("beat").startswith("celery -A config beat ")
    assert "ports" not in SERVICES["beat"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_settings_accept_the_environment_compose_gives(service: str) -> None:
    script = (
        "import json; from django.conf import settings; from config.celery import app; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps([db['ENGINE'], db['HOST'], settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS, "
        "app.conf.broker_url, settings.CELERY_TASK_ALWAYS_EAGER, str(settings.MEDIA_ROOT)]))"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **environment(service)}

    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.db.backends.postgresql",
        "db",
        False,
        OPERATOR_ENV["SECRET_KEY"],
        ["localhost", "127.0.0.1"],
        "redis://redis:6379/0",
        False,  # Tasks go to the worker, not run in the web process.
        "/app/media",
    ]


def test_the_image_installs_the_pinned_requirements_before_the_code() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    copy_requirements = steps.index(("COPY", "requirements.txt ."))
    install = steps.index(("RUN", "pip install -r requirements.txt"))
    copy_code = steps.index(("COPY", ". ."))
    assert copy_requirements < install < copy_code


def test_the_requirements_pin_what_the_containers_run() -> None:
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert all("==" in line for line in lines)
    pinned = {re.split(r"[\[=]", line)[0].lower() for line in lines}
    assert {"django", "gunicorn", "celery", "redis", "psycopg", "dj-database-url", "whitenoise", "pgvector"} <= pinned


def test_the_image_runs_gunicorn_as_an_unprivileged_user() -> None:
    steps = dockerfile()
    keywords = [keyword for keyword, _ in steps]
    user = dict(steps)["USER"]
    assert user not in {"root", "0"}
    assert keywords.index("USER") > max(i for i, keyword in enumerate(keywords) if keyword == "RUN")
    assert ("EXPOSE", "8000") in steps
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd[:2] == ["gunicorn", "config.wsgi"]
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"


def test_the_image_collects_static_files_as_production_serves_them(tmp_path: Path) -> None:
    """Runs the Dockerfile's collectstatic step: with DEBUG off it must produce whitenoise's manifest."""
    steps = dockerfile()
    [collect] = [arguments for keyword, arguments in steps if keyword == "RUN" and "collectstatic" in arguments]
    assert steps.index(("RUN", collect)) > steps.index(("COPY", ". ."))
    python_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{python_dir}:{os.environ['PATH']}", "STATIC_ROOT": str(tmp_path), "DEBUG": "true"}

    result = subprocess.run(["sh", "-c", collect], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "admin/css/base.css" in manifest["paths"]
    assert (tmp_path / manifest["paths"]["admin/css/base.css"]).with_suffix(".css.gz").is_file()


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".pgdata", "media", "staticfiles", ".env"} <= ignored
