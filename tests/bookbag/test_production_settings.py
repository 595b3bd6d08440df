"""Production settings: ``check --deploy`` is clean with the required environment, and booting without it fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Fake but valid values: a 64-character random-looking key, a host and a database URL on loopback.
DEPLOY_ENV = {
    "DJANGO_SECRET_KEY": "q8Vw3kZp0Tn7rYb5LmXc2Hs9GdJf4Ae6Ru1Wo3Ki8Pl5Nz7Mx0Cv2Bq9Sy4Dt6Ug",
    "DJANGO_ALLOWED_HOSTS": "bookbag.localhost",
    "DATABASE_URL": "postgres://bookbag@127.0.0.1:5432/bookbag",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "bookbag.settings.production"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_with_required_env():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=DEPLOY_ENV)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", sorted(DEPLOY_ENV))
def test_boot_without_required_env_fails(missing):
    env = {name: value for name, value in DEPLOY_ENV.items() if name != missing}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} is not set" in result.stderr


def test_boot_with_short_secret_key_fails():
    result = run_manage("check", env={**DEPLOY_ENV, "DJANGO_SECRET_KEY": "change-me"})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak" in result.stderr


def test_production_never_defaults_to_sqlite():
    command = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"

    result = run_manage("shell", "--no-imports", "-c", command, env=DEPLOY_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_invalid_whole_number_setting_fails_boot(value):
    result = run_manage("check", env={**DEPLOY_ENV, "BOOKBAG_AUDIT_RETENTION_DAYS": value})

    assert result.returncode != 0
    assert f"BOOKBAG_AUDIT_RETENTION_DAYS={value!r} is not a whole number of at least 1" in result.stderr
