"""Django settings for digifit, one module configured from the environment.

Environment variables (all optional):

``DATABASE_URL``
    A database URL (``postgres://user:pass@host:5432/name``). Without it digifit uses the embedded SQLite file
    ``$DIGIFIT_DATA_DIR/digifit.sqlite3``.
``DIGIFIT_DATA_DIR``
    Where the SQLite database, the secret key and uploaded files live. Default: ``./var``.
``DIGIFIT_DB_POOL``, ``DIGIFIT_DB_POOL_MAX``
    PostgreSQL only: share a pool of connections between the server's threads (default on, at most 16).
``DIGIFIT_DEBUG``
    ``1`` for development only. Default: off (production behaviour; ``DJANGO_DEBUG`` is read as a fallback).
``DIGIFIT_SECRET_KEY``
    The secret key (``DJANGO_SECRET_KEY`` as a fallback). Without it one is generated once and kept in
    ``$DIGIFIT_DATA_DIR/secret_key``; with ``DIGIFIT_HTTPS=1`` (a public deployment) the server refuses to start
    without it.
``DIGIFIT_ALLOWED_HOSTS``
    Comma-separated host names (``DJANGO_ALLOWED_HOSTS`` as a fallback); default ``localhost,127.0.0.1,[::1]``.
``DIGIFIT_HTTPS``
    ``1`` behind TLS: redirect to https, HSTS for a year (subdomains, preload), secure cookies. Behind a reverse
    proxy that terminates TLS, the proxy must set ``X-Forwarded-Proto`` (see ``docs/deploy.md``).
``DIGIFIT_ADMIN_PATH``
    Where the Django admin lives. Default ``manage/``; empty or ``off`` disables the admin.
``DIGIFIT_UPLOAD_MAX_BYTES``
    The largest uploaded workbook (.xlsx) accepted, in bytes. Default: 10485760 (10 MB).
``DIGIFIT_SCORM_ROOT``, ``DIGIFIT_SCORM_MAX_BYTES``
    Where SCORM packages are unpacked (default ``$DIGIFIT_DATA_DIR/scorm``) and the largest package accepted
    (default 200 MB).
``DIGIFIT_STATIC_ROOT``
    Where ``digifit manage collectstatic`` writes files. Default: ``$DIGIFIT_DATA_DIR/static``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
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


def _env(name: str, default: str = "") -> str:
    """``DIGIFIT_<name>``, else the older ``DJANGO_<name>``, else ``default``."""
    for prefix in ("DIGIFIT_", "DJANGO_"):
        value = os.environ.get(prefix + name)
        if value:
            return value
    return default


DEBUG = _env_flag("DIGIFIT_DEBUG", _env_flag("DJANGO_DEBUG", False))
HTTPS = _env_flag("DIGIFIT_HTTPS", False)


def _secret_key() -> str:
    key = _env("SECRET_KEY")
    if key:
        return key
    if HTTPS:
        raise SystemExit("digifit: DIGIFIT_SECRET_KEY must be set in production (DIGIFIT_HTTPS=1); see docs/deploy.md")
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


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in _env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
if DEBUG:
    ALLOWED_HOSTS += [h for h in ("localhost", "127.0.0.1", "[::1]", "testserver") if h not in ALLOWED_HOSTS]

_admin_path = os.environ.get("DIGIFIT_ADMIN_PATH", "manage/").strip().strip("/")
DIGIFIT_ADMIN_PATH = "" if _admin_path.lower() in {"", "off", "none", "0"} else _admin_path + "/"

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
    "django_tasks",
    "django_tasks_db",
    "digifit.notifications",
    "digifit.programme",
    "digifit.learning",
    "digifit.assessment",
    "digifit.reports",
    "axes",
    "csp",
    "ninja",  # the API docs page from ninja's own static files (Swagger UI), not a CDN with an inline script
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "digifit.web.request_limits.RequestLimitsMiddleware",  # 413 before anything reads an over-large body
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "digifit.web.context_processors.navigation",
            ],
        },
    },
]

_DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'digifit.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _DEFAULT_SQLITE)}
# A pool of connections shared by the server's threads (psycopg_pool), instead of a connection per request or
# one left open per thread. DIGIFIT_DB_POOL=0 turns it off (e.g. behind PgBouncer).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_flag("DIGIFIT_DB_POOL", True):
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
# Login throttling (django-axes) on the web login and OpenRosa's Basic auth (API tokens are 192-bit random values,
# not guessable): after 5 failures the account and, separately, the client address are refused for 15 minutes,
# even with the right password (429). Every attempt is recorded (axes' AccessAttempt / AccessFailureLog, admin).
AUTHENTICATION_BACKENDS = [
    "digifit.accounts.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("DIGIFIT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DIGIFIT_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
# The web login's lockout is a page in the user's language saying when to try again; OpenRosa/API a plain 429.
AXES_LOCKOUT_CALLABLE = "digifit.accounts.lockout.lockout_response"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # each role its own start page (digifit.web.home)
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

# Uploads: the largest .xlsx (questionnaires, later imports) the upload guard accepts (DIGIFIT_UPLOAD_MAX_BYTES,
# default 10 MB; see digifit.uploads and digifit.survey.upload_policy). OpenRosa submissions are read from the
# request stream.
DIGIFIT_UPLOAD_MAX_BYTES = int(os.environ.get("DIGIFIT_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
# SCORM packages (issue 14) are unpacked here, one folder per package; they are larger than workbooks.
DIGIFIT_SCORM_ROOT = Path(os.environ.get("DIGIFIT_SCORM_ROOT", DATA_DIR / "scorm"))
DIGIFIT_SCORM_MAX_BYTES = int(os.environ.get("DIGIFIT_SCORM_MAX_BYTES", str(200 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH = 10 * 1024 * 1024

# Cookies and headers. Session and CSRF cookies are HttpOnly/SameSite=Lax (the CSRF token is read from the
# page, never by script from the cookie); under HTTPS they are only sent over TLS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The reverse proxy terminates TLS and says so in this header (it must overwrite a client's own value).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and requests only from this site; no inline
# script or style, no eval. The pages keep their scripts and styles in static files and pass data in data-*
# attributes or json_script blocks; Vega charts use Vega's expression interpreter (vega-interpreter, no eval);
# HTMX's own indicator style is off (meta htmx-config). data: images are Pico CSS's icons and the form's favicon.
# The admin's change list has one inline <style> (column width only), which the browser then ignores.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Background work: django-tasks with its database backend (django-tasks-db); `digifit worker` runs it together
# with the e-mail outbox loop (digifit.notifications). A task whose worker died is never retried by the
# backend, so nothing that must happen exactly once relies on a task alone (see docs/architecture.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# E-mail (the outbox's SMTP connection). Without EMAIL_HOST messages are written to the worker's console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_flag("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "digifit <noreply@digifit.localhost>")
# The demo's mailbox: `digifit demo` turns it on so that a newcomer reads the e-mails the product sends
# (invitations, confirmations, reminders) at /demo/mail/ without an SMTP server. It shows every queued message
# to anyone who can reach the server, so a public deployment (DIGIFIT_HTTPS=1) refuses to start with it.
DIGIFIT_DEMO_MAILBOX = _env_flag("DIGIFIT_DEMO_MAILBOX", False)
if DIGIFIT_DEMO_MAILBOX and HTTPS:
    raise SystemExit("digifit: DIGIFIT_DEMO_MAILBOX is for the local demo only; unset it with DIGIFIT_HTTPS=1")
# The public address of the site, for links in e-mails and calendar entries.
DIGIFIT_BASE_URL = os.environ.get("DIGIFIT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The outbox: a message in 'sending' longer than this is returned to 'pending' by the sweeper (its worker died).
DIGIFIT_OUTBOX_SENDING_TIMEOUT = int(os.environ.get("DIGIFIT_OUTBOX_SENDING_TIMEOUT", "600"))
DIGIFIT_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("DIGIFIT_OUTBOX_MAX_ATTEMPTS", "5"))
# The programme: reminder offsets before a session (hours), the cancellation deadline, the reach target.
DIGIFIT_REMINDER_OFFSETS_HOURS = [
    float(h) for h in os.environ.get("DIGIFIT_REMINDER_OFFSETS_HOURS", "24,1").split(",") if h.strip()
]
# Confirmation links (sign-up) and claim links of Digital-Check results are valid this long.
DIGIFIT_CONFIRMATION_MAX_AGE_HOURS = float(os.environ.get("DIGIFIT_CONFIRMATION_MAX_AGE_HOURS", "72"))
# The Digital-Check's learning path reads trainings and sessions from this module (the layer above it).
DIGIFIT_CHECK_CATALOGUE = "digifit.programme.selectors"
DIGIFIT_CANCEL_DEADLINE_HOURS = float(os.environ.get("DIGIFIT_CANCEL_DEADLINE_HOURS", "2"))
DIGIFIT_REACH_TARGET = int(os.environ.get("DIGIFIT_REACH_TARGET", "10000"))
DIGIFIT_REACH_DEADLINE = os.environ.get("DIGIFIT_REACH_DEADLINE", "")  # YYYY-MM-DD; default 31 Dec this year

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DIGIFIT_LOG_LEVEL", "WARNING")},
}

# Webhooks call only public addresses. Hosts or networks listed here (comma-separated: `hooks.intranet`,
# `127.0.0.1`, `10.20.0.0/16`) may be called although they are loopback, private or link-local. Empty by default.
DIGIFIT_WEBHOOK_ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DIGIFIT_WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
]
