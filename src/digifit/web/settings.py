"""Django settings for digifit, one module configured from the environment.

Environment variables (all optional):

``DATABASE_URL``
    A database URL (``postgres://user:pass@host:5432/name``). Without it digifit uses the embedded SQLite file
    ``$DIGIFIT_DATA_DIR/digifit.sqlite3``.
``DIGIFIT_DATA_DIR``
    Where the SQLite database, the secret key and uploaded files live. Default: ``./var``.
``DIGIFIT_DB_POOL``, ``DIGIFIT_DB_POOL_MAX``
    PostgreSQL only: share a pool of connections between the server's threads (default on, at most 16).
``DJANGO_DEBUG``
    ``1`` for development (the default), ``0`` in production.
``DJANGO_SECRET_KEY``
    The secret key. Without it one is generated once and kept in ``$DIGIFIT_DATA_DIR/secret_key``.
``DJANGO_ALLOWED_HOSTS``
    Comma-separated host names; default ``localhost,127.0.0.1,[::1]`` (``*`` when debugging).
``DIGIFIT_STATIC_ROOT``
    Where ``digifit manage collectstatic`` writes files. Default: ``$DIGIFIT_DATA_DIR/static``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/digifit
DATA_DIR = Path(os.environ.get("DIGIFIT_DATA_DIR", "var")).resolve()


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
    except OSError:  # a read-only checkout still starts; sessions then last one process
        pass
    return key


DEBUG = _env_flag("DJANGO_DEBUG", True)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "*" if DEBUG else "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "digifit.web",
    "digifit.accounts",
    "digifit.survey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "digifit.web.urls"
WSGI_APPLICATION = "digifit.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "digifit.web.context_processors.vendor_assets",
            ],
        },
    },
]

_DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'digifit.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _DEFAULT_SQLITE)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool of connections shared by the server's threads (psycopg_pool), instead of a connection per
    # request or one left open per thread. DIGIFIT_DB_POOL=0 turns it off (e.g. behind PgBouncer).
    if _env_flag("DIGIFIT_DB_POOL", True):
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 2, "max_size": int(os.environ.get("DIGIFIT_DB_POOL_MAX", "16")), "timeout": 30}
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # required with a pool
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Many small writes from several threads: wait for the lock instead of failing, and use WAL.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "survey:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True

STATIC_URL = "static/"
# Front-end assets (Pico CSS, HTMX) are installed from npm by `make install` into web/vendor (gitignored).
VENDOR_DIR = PACKAGE_DIR / "web" / "vendor"
STATICFILES_DIRS = [("vendor", VENDOR_DIR)] if VENDOR_DIR.is_dir() else []
STATIC_ROOT = Path(os.environ.get("DIGIFIT_STATIC_ROOT", DATA_DIR / "static"))

# Uploads: XLSForms up to 20 MB; OpenRosa submissions are read from the request stream.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH = 10 * 1024 * 1024

if not DEBUG:
    SESSION_COOKIE_SECURE = _env_flag("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DIGIFIT_LOG_LEVEL", "WARNING")},
}
