"""The one settings module. Every value comes from the environment; no variable is needed for the
embedded default (SQLite in a data folder, Huey on SQLite, Chinese UI)."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from yixiang.env import ConfigError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("YIXIANG_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


# --- Several machines (README "Several machines"): shared secrets, replica, caches, health.
# On PostgreSQL several app nodes may share one database: a key a node generated for itself would
# sign sessions and encrypt fields that no other node can read, so such a node refuses to start.
# YIXIANG_SINGLE_NODE=1 allows it for a lone machine on PostgreSQL.
_SHARED_DATABASE = env_str("DATABASE_URL").startswith(("postgres", "pgsql")) and not (
    env_bool("YIXIANG_SINGLE_NODE", False) or env_bool("YIXIANG_TESTING", False)
)


def _secret_from_file(name: str, env_name: str, make) -> str:
    """A secret from the environment, else from a file in the data folder, generated on first run."""
    value = env_str(env_name)
    if value:
        return value
    path = DATA_DIR / name
    if not path.exists():
        if _SHARED_DATABASE:
            raise ConfigError(
                f"{env_name} is not set and {path} does not exist: with DATABASE_URL on PostgreSQL "
                f"every app node must use the same {env_name}. Set it in the environment of every "
                f"node (copy the value from the first node's {path.name}), or set YIXIANG_SINGLE_NODE=1 "
                "if this machine is the only one."
            )
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = _secret_from_file("secret.key", "SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: `manage.py rotate_field_key`).
FIELD_ENCRYPTION_KEYS = env_list("YIXIANG_FIELD_KEYS") or [
    _secret_from_file("field.key", "YIXIANG_FIELD_KEY", _fernet_key)
]

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "yixiang.web.apps.AxesConfig",  # django-axes, with a translated admin section name
    "ninja",
    "yixiang.accounts",
    "yixiang.customers",
    "yixiang.pipeline",
    "yixiang.aftercare",
    "yixiang.incentives",
    "yixiang.reports",
    "yixiang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yixiang.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Every request's database time has a ceiling (REQUEST_CEILING_SECONDS): yixiang/web/ceiling.py.
    "yixiang.web.ceiling.RequestCeilingMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After the language is chosen, so the refusal of NUL in any input speaks it.
    "yixiang.web.middleware.InvalidTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a clear refusal.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yixiang.urls"
WSGI_APPLICATION = "yixiang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "yixiang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database: embedded SQLite (WAL) by default, PostgreSQL when DATABASE_URL says so.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_JIT_OFF", True):
        # PostgreSQL's JIT compiles a big report query for ~0.25 s before running it in less;
        # our queries are short and index-driven, so it only ever costs time here.
        opts = DATABASES["default"].setdefault("OPTIONS", {})
        opts["options"] = f"{opts.get('options', '')} -c jit=off".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "yixiang.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Keep a thread's connection between requests, as for PostgreSQL: opening one per request
    # reparses the schema, reruns the PRAGMAs below and starts with an empty page cache.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on busy_timeout
        # instead of failing with "database is locked" when upgrading a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;PRAGMA cache_size=-64000;PRAGMA temp_store=MEMORY;"
        ),
    }
    # Tests run on a real file, not shared-cache memory: there concurrent writers get "table is
    # locked" at once instead of waiting on busy_timeout as they do in production (WAL file).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "yixiang.accounts.backends.ThrottlingBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after 5 failures for one username from one address, 15 minutes of refusal.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "yixiang.accounts.lockout.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time: Simplified Chinese first, English second; Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "yixiang" / "locale"]
USE_I18N = True
# One date format in both languages (ISO), and ISO first in date inputs: see yixiang/formats.
FORMAT_MODULE_PATH = ["yixiang.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
TESTING = env_bool("YIXIANG_TESTING", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files in production; the plain finder-backed storage under test.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING or DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG
MEDIA_ROOT = DATA_DIR / "media"
# Uploaded import files: a local folder by default; an S3-compatible bucket (django-storages, with
# boto3 installed) when YIXIANG_UPLOADS_BUCKET is set, so several app nodes share them (README).
if env_str("YIXIANG_UPLOADS_BUCKET", ""):
    STORAGES["imports"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("YIXIANG_UPLOADS_BUCKET", ""),
            "location": env_str("YIXIANG_UPLOADS_PREFIX", "imports"),
            "endpoint_url": env_str("YIXIANG_UPLOADS_ENDPOINT", "") or None,
            "region_name": env_str("YIXIANG_UPLOADS_REGION", "") or None,
            "default_acl": None,
            "file_overwrite": False,
        },
    }  # credentials: the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables
else:
    STORAGES["imports"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # YIXIANG_UPLOADS_DIR: a folder every node mounts (NFS…) when several nodes share no bucket.
        "OPTIONS": {"location": env_str("YIXIANG_UPLOADS_DIR", str(MEDIA_ROOT / "imports"))},
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("YIXIANG_MAX_BODY_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_UPLOAD_BYTES = env_int("YIXIANG_IMPORT_MAX_BYTES", 300 * 1024 * 1024)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_AGE_SECONDS", 14 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind HTTPS (YIXIANG_HTTPS=1): secure cookies, HSTS, redirect to https. `check --deploy` passes.
HTTPS = env_bool("YIXIANG_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS or env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load-balancer probes speak plain HTTP

# --- Background worker (Huey): SQLite file by default, Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
# Periodic jobs are written in the site's local time ("06:05" means 06:05 in Shanghai): Huey
# compares crontabs with the process's local clock, which Django sets to TIME_ZONE.
if REDIS_URL:
    HUEY = {
        # RedisHuey whose periodic jobs run once per period across several consumers.
        "huey_class": "yixiang.jobs.ClusterRedisHuey",
        "name": env_str("HUEY_NAME", "yixiang"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "yixiang",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }

EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "yixiang@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Web and API requests stop after this many seconds of database work (0: no ceiling); jobs have none.
REQUEST_CEILING_SECONDS = env_int("YIXIANG_REQUEST_CEILING_SECONDS", 10)

# --- Domain settings (DOMAIN.md): every number is a setting with the method's default.
YIXIANG = {
    # Archive number: placeholders {year}, {seq}; seq is a per-year counter.
    "ARCHIVE_NO_FORMAT": env_str("YIXIANG_ARCHIVE_NO_FORMAT", "KH{year}{seq:06d}"),
    "DEFAULT_PHONE_REGION": env_str("YIXIANG_PHONE_REGION", "CN"),
    "API_PAGE_SIZE_MAX": 200,
    "IMPORT_BATCH_SIZE": env_int("YIXIANG_IMPORT_BATCH", 2000),
    # Phone numbers found to be another rep's customer, per user and window: more are refused (429),
    # so the duplicate check cannot be used to test the whole company's numbers (SECURITY.md).
    "HIDDEN_DUPLICATE_LIMIT": env_int("YIXIANG_HIDDEN_DUPLICATE_LIMIT", 20),
    "HIDDEN_DUPLICATE_WINDOW_MINUTES": env_int("YIXIANG_HIDDEN_DUPLICATE_WINDOW_MINUTES", 60),
}

# --- Several machines (README "Several machines"), continued from the keys at the top.
# Optional read replica: reports and exports read it (yixiang/replica.py), writes and a user's own
# just-written data read the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
        "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["yixiang.replica.ReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
                      "yixiang.replica.PrimaryPinMiddleware")  # fmt: skip
# One cache for all nodes when Redis is there (a per-process cache would serve stale data after
# a write on another node); the default per-process cache otherwise. Sessions stay in the
# database and login throttling (django-axes) counts failures in the database: shared as is.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_REDIS_URL", REDIS_URL),
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "yixiang"),
        }
    }
