"""Settings: the only module that reads the environment. Every variable is in the README."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dashboard.files import private_file

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("DATA_DIR") or BASE_DIR / "data")


def secret_key() -> str:
    """SECRET_KEY, else a random key kept in DATA_DIR (one host); never a default."""
    if key := os.environ.get("SECRET_KEY", ""):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        private_file(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = secret_key()

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # Django's admin, whose site also lets in the admin role (audit trail): inspector/admin_site.py
    "inspector.apps.InspectorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "inspector",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a login refused for too many failures into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "inspector.access.upstream",
            ],
            "builtins": [
                "django_htmx.templatetags.django_htmx",
                "inspector.templatetags.inspector",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # postgres://user:password@host:port/name (the role needs CREATEDB to run the tests).
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "inspector.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The database file made 0600 before SQLite opens it (SQLite gives its -wal and -shm
    # files the database file's mode): the stored responses are nobody else's to read.
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        private_file(Path(DATABASES["default"]["NAME"]))
    # The same for the default file and for a sqlite:// DATABASE_URL.
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two requests storing the same
        # response queue up instead of failing with "database is locked" mid-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: concurrent-write tests need real SQLite locking.
    # One per process, so test runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, its records in the database, shared by every worker and host):
# after LOGIN_FAILURE_LIMIT failed logins for one username, or from one address, logins for
# that username, or from that address, are refused (429), even with the right password, until
# LOGIN_COOLOFF_MINUTES have passed since the last failure. Every failure is in the audit
# trail (inspector/apps.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT") or 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each alone, not the pair
# Failures count until the cool-off, a login that works resets nothing: else a user with an
# account of their own could log in between guesses at another's and so reset the count.
AXES_RESET_ON_SUCCESS = False
# A fixed cool-off: failures during it do not extend it (else anyone could keep an account
# locked for good by trying once in a while).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The address as the audit trail sees it (behind TRUSTED_PROXIES, the client's).
AXES_CLIENT_IP_CALLABLE = "inspector.audit.request_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inspector:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# HASHED_STATIC=true (production, set by `make serve` for collectstatic and gunicorn): hashed,
# compressed files from STATIC_ROOT. Otherwise (runserver, tests) plain files from static/,
# served by WhiteNoise.
HASHED_STATIC = env_bool("HASHED_STATIC", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if HASHED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not HASHED_STATIC

# Strict CSP: no inline script or style, no eval; images may be data: URLs (screenshots,
# generated images) and https (remote input images, loaded only on click).
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# HTTPS=true: the site is served only over TLS (directly, or behind a proxy that sets
# X-Forwarded-Proto). Then: redirect to https, HSTS, secure cookies (`check --deploy` clean).
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers check /healthz over plain http and follow no redirect.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    # HSTS for subdomains and the preload list bind other hosts of the operator's domain:
    # their call (HSTS_INCLUDE_SUBDOMAINS), so those two checks do not apply by default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
        SILENCED_SYSTEM_CHECKS.append("security.W005")

# Error reports (the DEBUG page, error e-mails) never show the API key, not even in a local
# variable of a frame (dashboard/errors.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.errors.KeyFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# Upstream (the OpenAI API or anything that speaks it). Names as in the official SDKs.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
OPENAI_ORG_ID = os.environ.get("OPENAI_ORG_ID", "")
OPENAI_PROJECT_ID = os.environ.get("OPENAI_PROJECT_ID", "")
OPENAI_READ_TIMEOUT = env_float("OPENAI_READ_TIMEOUT", 30.0)
OPENAI_CONNECT_TIMEOUT = env_float("OPENAI_CONNECT_TIMEOUT", 5.0)
OPENAI_MAX_RETRIES = int(os.environ.get("OPENAI_MAX_RETRIES") or 2)
# Bounds on every upstream read, whatever the upstream does (README, "Deploying for a team"):
# the seconds one request (one fetch step) may spend upstream in all, connecting, reading and
# retrying together, well under the server's worker timeout (gunicorn --timeout 60 in `make
# serve`); the largest body read, after decompression; the most input-item pages (of 100)
# fetched for one response, past which the page says what was not fetched.
OPENAI_STEP_TIMEOUT = env_float("OPENAI_STEP_TIMEOUT", 20.0)
OPENAI_MAX_BODY_BYTES = int(os.environ.get("OPENAI_MAX_BODY_BYTES") or 64 * 1024 * 1024)
OPENAI_MAX_INPUT_PAGES = int(os.environ.get("OPENAI_MAX_INPUT_PAGES") or 1000)
# The response page fetches input items in steps its page drives (htmx): a step starts no new
# page of items after this many seconds.
FETCH_STEP_SECONDS = env_float("FETCH_STEP_SECONDS", 5.0)
PLATFORM_LOGS_URL = os.environ.get("PLATFORM_LOGS_URL") or "https://platform.openai.com/logs/"

# Local token counting: tiktoken reads its encoding files from here (never downloads them).
TIKTOKEN_CACHE_DIR = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or DATA_DIR / "tiktoken")

# Imports from /import/: larger uploads are refused with a message.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES") or 200 * 1024 * 1024)
# One JSONL line (or JSON array entry): a longer one fails alone, skipped without being read
# into memory, so any file imports in about the memory of its largest accepted entry.
IMPORT_MAX_LINE_BYTES = int(os.environ.get("IMPORT_MAX_LINE_BYTES") or 64 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Django's cache framework: what several workers and hosts share (the per-user rate limit on
# upstream fetches). CACHE_URL: "db://TABLE" (default db://inspector_cache, a table in the
# database: `manage.py createcachetable`, run by `prepare`), "redis://host:6379/0" (needs the
# redis package), or "locmem://" (one process only: the limit is then per worker).
CACHE_URL = os.environ.get("CACHE_URL") or "db://inspector_cache"


def cache_config(url: str) -> dict[str, str]:
    scheme, _, rest = url.partition("://")
    if scheme == "db":
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": rest or "inspector_cache"}  # fmt: skip
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": rest}
    if scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(f"CACHE_URL must start db://, redis:// or locmem://, not {url!r}")


CACHES = {"default": cache_config(CACHE_URL)}
# Upstream fetches per user (fetch, refresh, resume, replay, trace walk, playground API
# counts): "30/min", "100/h", "5/10s"; empty or 0 for no limit.
FETCH_RATE_LIMIT = os.environ.get("FETCH_RATE_LIMIT", "30/min")
# Seconds of local token counting per user (the playground counts as one types): "10/min";
# empty or 0 for no limit. Over it: a 429 until the window ends (inspector/access.py).
PLAYGROUND_COUNT_LIMIT = os.environ.get("PLAYGROUND_COUNT_LIMIT", "10/min")
# The audit trail's remote address: behind a reverse proxy REMOTE_ADDR is the proxy's. List
# the proxies (IPs or networks, comma-separated) whose X-Forwarded-For is to be believed.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
