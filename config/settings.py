"""Settings for the storefront, read from the environment (12-factor).

With no environment at all the project runs on an embedded PostgreSQL with
pgvector (in ``.pgdata/``) and runs Celery tasks in process.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_weights(name: str, default: str) -> dict[str, float]:
    """``"article_type=0.05,gender=0.03"`` as a dict."""
    weights = {}
    for item in env_list(name, default):
        key, _, value = item.partition("=")
        weights[key.strip()] = float(value)
    return weights


def url_origin(url: str) -> list[str]:
    """The origin of an absolute URL (a CDN's) as a Content-Security-Policy source; none for a path on the site."""
    parts = urlsplit(url)
    if not parts.netloc:
        return []
    return [f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS. Off by default, so that http://127.0.0.1 works; turn them on where the site is served over HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# Behind a proxy that terminates HTTPS: the header it sets and the value that means HTTPS, such as
# "X-Forwarded-Proto,https". Set it only when the proxy always sets or strips that header.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            'SECURE_PROXY_SSL_HEADER reads "Header-Name,value", such as "X-Forwarded-Proto,https".'
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header[0].upper().replace("-", "_"), _proxy_ssl_header[1])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop",
    "recommendations",
    "accounts",  # before allauth: its templates put allauth's pages in the site's frame
    "cart",
    "orders",
    "allauth",
    "allauth.account",
    "events",
    "experiments",
    "personalization",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.database_unavailable.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "events.middleware.VisitorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a login that axes refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "shop.context_processors.navigation",
            ],
        },
    },
    {
        # What renders many times a page or on every product page (config/jinja2.py): the product cards, the
        # wishlist hearts, the size picker. Templates in each app's jinja2/ folder.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "config.jinja2.environment", "autoescape": True},
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL (any PostgreSQL with pgvector), else the embedded server.
EMBEDDED_POSTGRES_DATA = Path(os.environ.get("EMBEDDED_POSTGRES_DATA", BASE_DIR / ".pgdata"))
# Its cache, e.g. "512MB"; empty: a quarter of the machine's memory, at most 2 GB.
EMBEDDED_POSTGRES_SHARED_BUFFERS = os.environ.get("EMBEDDED_POSTGRES_SHARED_BUFFERS", "")
# Each process (a gunicorn worker, a Celery worker, a command) keeps a pool of at most this many connections, which
# its threads share and give back at the end of each request or task; 0: no pool, a persistent connection per thread
# (for a pooler such as PgBouncer in front of the database).
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 4)
DATABASE_POOL_MIN_SIZE = min(env_int("DATABASE_POOL_MIN_SIZE", 1), DATABASE_POOL_MAX_SIZE)
# Seconds a thread waits for a free connection before its request fails.
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0)
# Pooled connections must not persist in Django's sense (Django refuses both).
conn_max_age = 0 if DATABASE_POOL_MAX_SIZE else 60
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=conn_max_age, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_db",
            "NAME": "storefront",
            "USER": "postgres",
            "DATA_DIR": str(EMBEDDED_POSTGRES_DATA),
            "SHARED_BUFFERS": EMBEDDED_POSTGRES_SHARED_BUFFERS,
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
        }
    }
if DATABASE_POOL_MAX_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
        "reconnect_timeout": DATABASE_POOL_TIMEOUT,  # then tries afresh: its backoff would grow to minutes
    }
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
if DATABASES["default"]["ENGINE"] not in {"config.embedded_db", "django.db.backends.postgresql"}:
    raise ImproperlyConfigured("The storefront needs PostgreSQL with pgvector; set DATABASE_URL to postgres://...")
# Read replicas of the primary (streaming standbys), as URLs: the aliases replica_1, replica_2... config.replicas
# sends them the reads that may be a little stale (similar items, recommendation lists, listings).
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", ""), start=1):
    _replica = dj_database_url.parse(_url, conn_max_age=conn_max_age, conn_health_checks=True)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS lists PostgreSQL servers: postgres://...")
    if DATABASE_POOL_MAX_SIZE:
        _replica.setdefault("OPTIONS", {})["pool"] = dict(DATABASES["default"]["OPTIONS"]["pool"])
    # Tests read the test database through every alias.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica_{_number}")
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = os.environ.get("STATIC_URL", "/static/")
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Serve uploaded media from Django itself; turn off when a web server or a CDN serves MEDIA_URL.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

# Content-Security-Policy (django-csp): scripts, styles, fonts, fetches and frames from the site itself (and from
# STATIC_URL's host when static files come from a CDN), no inline script or style (templates load static files) but
# one that a template marks with the request's nonce (`request.csp_nonce`: the API docs' start-up script). Images may
# also come from MEDIA_URL's host and be data: URLs (the favicon, the admin's and Swagger UI's icons); search by photo
# adds blob: for its preview (recommendations/views.py).
_static_origin, _media_origin = url_origin(STATIC_URL), url_origin(MEDIA_URL)
_content_security_policy = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, *_static_origin],
        "style-src": [SELF, NONCE, *_static_origin],
        "font-src": [SELF, *_static_origin],
        "img-src": [SELF, "data:", *_static_origin, *_media_origin],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # Where browsers post what the policy blocked, such as https://reports.example.com/csp (none: nowhere).
        "report-uri": os.environ.get("CSP_REPORT_URI") or None,
    }
}
# Report-only: browsers report what the policy would block and block nothing, to try a change of the policy out.
_csp_report_only = env_bool("CSP_REPORT_ONLY", False)
CONTENT_SECURITY_POLICY = None if _csp_report_only else _content_security_policy
CONTENT_SECURITY_POLICY_REPORT_ONLY = _content_security_policy if _csp_report_only else None

STORAGES = {
    "default": {"BACKEND": os.environ.get("DEFAULT_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Django's cache: the navigation, facet counts, similar items, API throttling and the interaction log's memory of
# lists. With CACHE_URL (redis://host:6379/1), Redis, shared by every worker and process; else each process's memory.
# Cached values are invalidated by the catalogue's changes (shop.generations), in every process that shares them.
CACHE_URL = os.environ.get("CACHE_URL", "")
# Prepended to every key: several shops (or test runs) can share one Redis database.
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "lookalike")
if CACHE_URL:
    CACHES = {
        "default": {
            # Redis being away costs speed, not pages: reads miss and writes are skipped (config/cache.py).
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # Django's default, 300, would hold the similar items of a few pages only.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Celery: with no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died unacknowledged is delivered again after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Celery queues and routes (docs/deployment.md, "Queues and workers").
# Each kind of work has its own queue, so that embedding workers can run on GPU machines and the rest elsewhere.
# The routes are globs, so a new task of an app lands on its app's queue. A worker started without -Q consumes
# every queue in CELERY_TASK_QUEUES; `-Q embeddings` (say) narrows it to one.
CELERY_TASK_DEFAULT_QUEUE = "default"  # everything not routed below: order e-mails and the like
CELERY_TASK_ROUTES = {
    "recommendations.vectors.tasks.*": {"queue": "embeddings"},  # product photos to vectors (ONNX Runtime)
    "recommendations.offline.*": {"queue": "training"},  # reserved for training jobs: none is a task yet
    "recommendations.tasks.*": {"queue": "recommendations"},
    "personalization.tasks.*": {"queue": "recommendations"},
    "events.tasks.*": {"queue": "events"},  # the interaction log's upkeep (pruning)
}
# Each queue under its own routing key (the default key, shared, would copy every task into every queue).
CELERY_TASK_QUEUES = {
    name: {"routing_key": name} for name in ("default", "embeddings", "recommendations", "events", "training")
}

# The Kaggle "Fashion Product Images" folder (styles.csv + images/) used by the
# demo, the tests and the benchmarks. Never copied into the repository.
CATALOG_DATASET_DIR = Path(
    os.environ.get("CATALOG_DATASET_DIR", BASE_DIR.parent / "shared" / "datasets" / "fashion-product-images-small")
)

SHOP_NAME = os.environ.get("SHOP_NAME", "Lookalike")
SHOP_PAGE_SIZE = env_int("SHOP_PAGE_SIZE", 48)

# Accounts (accounts/, django-allauth): shoppers sign up and log in with their e-mail address and a password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: it refuses a locked-out client before a password is checked
    "django.contrib.auth.backends.ModelBackend",  # the admin's usernames
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# "none", "optional" (a confirmation e-mail is sent, logging in does not wait for it) or "mandatory".
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_REDIRECT_URL = "shop:home"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"

# Failed logins (django-axes), the admin's and the shoppers' alike: after AXES_FAILURE_LIMIT failures, an
# account cannot be logged in to from that address for AXES_COOLOFF_MINUTES after the last attempt (429 and
# templates/axes/lockout.html); failures are forgotten that long after the last one. Counted per account and address,
# so that nobody can lock a shopper out from elsewhere. Attempts are kept in the database (the admin's Axes pages show
# and delete them).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "config.login_attempts.login_name"
AXES_CLIENT_IP_CALLABLE = "config.login_attempts.client_address"
AXES_LOCKOUT_CALLABLE = "config.login_attempts.lockout_response"
# Only failures count: a log of every successful login would be personal data kept for ever.
AXES_DISABLE_ACCESS_LOG = True
# No banner in every command's output.
AXES_VERBOSE = False
# allauth's own limit on failed logins per account would answer before axes does: keep only its limit per address.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}

# E-mail (password resets, order confirmations): printed to the console unless EMAIL_BACKEND says otherwise,
# e.g. django.core.mail.backends.smtp.EmailBackend with the EMAIL_HOST_* settings.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{SHOP_NAME} <noreply@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Bags (cart/) and orders (orders/).
# The most units of one size a bag may hold.
CART_MAX_QUANTITY = env_int("CART_MAX_QUANTITY", 10)
# Delivery methods offered at checkout, with their prices in rupees.
ORDER_DELIVERY_METHODS = {
    "standard": {
        "label": "Standard delivery",
        "description": "3 to 5 working days",
        "price": os.environ.get("ORDER_STANDARD_DELIVERY_PRICE", "49"),
    },
    "express": {
        "label": "Express delivery",
        "description": "1 to 2 working days",
        "price": os.environ.get("ORDER_EXPRESS_DELIVERY_PRICE", "149"),
    },
}
# Payment methods offered at checkout, in order: dotted paths of orders.payments.PaymentMethod subclasses.
ORDER_PAYMENT_METHODS = env_list("ORDER_PAYMENT_METHODS", "orders.payments.CashOnDelivery")
# Order numbers read PREFIX-XXXX-XXXX.
ORDER_NUMBER_PREFIX = os.environ.get("ORDER_NUMBER_PREFIX", "LK")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# Image embeddings (recommendations/). Served from an exported ONNX model and its manifest (<model>.onnx and
# <model>.json): the shop's own exports in EMBEDDING_MODELS_DIR first, then those shipped in recommendations/weights/
# (the default model). `export_embedding_model` writes others; it and training need requirements-ml.txt (torch).
EMBEDDING_MODEL = os.environ.get("EMBEDDING_MODEL", "efficientnet_lite0_catalogue")
EMBEDDING_MODELS_DIR = Path(os.environ.get("EMBEDDING_MODELS_DIR", BASE_DIR / "var" / "embeddings" / "models"))
# Offline only: ImageNet weights files under their published names (e.g. resnet50-11ad3fa6.pth) and trained heads.
EMBEDDING_WEIGHTS_DIR = Path(os.environ.get("EMBEDDING_WEIGHTS_DIR", BASE_DIR / "var" / "embeddings" / "weights"))
# Inference threads per process; 0: every core the process may run on. Lower it for several workers.
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 0) or None
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
# Products per Celery task (and per chunk of rebuild_embeddings).
EMBEDDING_TASK_SIZE = env_int("EMBEDDING_TASK_SIZE", 256)
# Without a broker, products whose images change are embedded in the saving process (an admin edit, a small
# import) up to this many at a time; more are left to `rebuild_embeddings`, which scripts/start.sh runs.
EMBEDDING_INLINE_LIMIT = env_int("EMBEDDING_INLINE_LIMIT", 256)

# Similar items and search by photo.
SIMILAR_ITEMS_COUNT = env_int("SIMILAR_ITEMS_COUNT", 12)
# HNSW candidate list per query: higher finds the true nearest more often, and costs time.
SIMILAR_ITEMS_EF_SEARCH = env_int("SIMILAR_ITEMS_EF_SEARCH", 100)
# Images this close (cosine distance) are one picture saved twice: shown as one card.
SIMILAR_ITEMS_DUPLICATE_DISTANCE = env_float("SIMILAR_ITEMS_DUPLICATE_DISTANCE", 0.01)
# Rank by image similarity plus a bonus per attribute shared with the product (weights below).
SIMILAR_ITEMS_METADATA_RANKING = env_bool("SIMILAR_ITEMS_METADATA_RANKING", False)
SIMILAR_ITEMS_METADATA_WEIGHTS = env_weights(
    "SIMILAR_ITEMS_METADATA_WEIGHTS", "article_type=0.05,gender=0.03,base_colour=0.02,usage=0.01,season=0.01"
)
# Nearest neighbours re-ranked when the metadata ranking is on.
SIMILAR_ITEMS_RERANK_POOL = env_int("SIMILAR_ITEMS_RERANK_POOL", 100)
# How long a product's similar items are cached (Django's cache); they are computed again sooner when the catalogue,
# the products in stock or the serving space's vectors change. 0: on every request.
SIMILAR_ITEMS_CACHE_SECONDS = env_int("SIMILAR_ITEMS_CACHE_SECONDS", 3600)

SEARCH_PHOTO_MAX_BYTES = env_int("SEARCH_PHOTO_MAX_BYTES", 10_000_000)
SEARCH_PHOTO_MAX_PIXELS = env_int("SEARCH_PHOTO_MAX_PIXELS", 50_000_000)
# Longer side, in pixels, that a photo is reduced to before it is embedded: the level of detail of
# the catalogue's own 60x80 images (see benchmarks/photo_search.py); 0 keeps every pixel.
SEARCH_PHOTO_DETAIL = env_int("SEARCH_PHOTO_DETAIL", 80)
# Parts of the photo searched besides the whole: boxes of these shares of its sides in its four corners and its
# middle, so that a product filling only part of a busy photo is also seen on its own (none: the whole photo only).
SEARCH_PHOTO_PARTS = [float(share) for share in env_list("SEARCH_PHOTO_PARTS", "0.7")]
# Zoomed-out copies searched besides the whole: the photo in the middle of white this many times its size,
# so that a close-up that cuts the product off shows it at the catalogue's scale (none: no zoomed-out copy).
SEARCH_PHOTO_ZOOM_OUTS = [float(factor) for factor in env_list("SEARCH_PHOTO_ZOOM_OUTS", "1.4")]
if any(not factor >= 1 for factor in SEARCH_PHOTO_ZOOM_OUTS):
    raise ImproperlyConfigured("Each of SEARCH_PHOTO_ZOOM_OUTS (canvas size / photo size) must be 1 or more.")
# Also search a sharpened copy of the photo, for shaken and out-of-focus ones.
SEARCH_PHOTO_SHARPEN = env_bool("SEARCH_PHOTO_SHARPEN", True)
# Added to the cosine distance of what a part, zoomed-out or sharpened copy finds: the whole photo wins a near tie.
SEARCH_PHOTO_PART_HANDICAP = env_float("SEARCH_PHOTO_PART_HANDICAP", 0.0)
# hnsw.ef_search of each query image's scan: the query images vote, so each needs less recall than a product page.
SEARCH_PHOTO_EF_SEARCH = env_int("SEARCH_PHOTO_EF_SEARCH", 40)
# Keep searched photos in the media storage (photo-searches/); by default they are gone after the request.
SEARCH_PHOTO_KEEP_UPLOADS = env_bool("SEARCH_PHOTO_KEEP_UPLOADS", False)
# Uploads up to the limit stay in memory: a searched photo never touches the disk unless kept.
FILE_UPLOAD_MAX_MEMORY_SIZE = SEARCH_PHOTO_MAX_BYTES

# The REST API under /api/, described at /api/schema/ and /api/docs/.
# Searches by photo per client and period, in DRF's notation ("30/minute", "500/day").
API_PHOTO_SEARCH_RATE = os.environ.get("API_PHOTO_SEARCH_RATE", "30/minute")
# Events a client may post (POST /api/events/), per period.
API_EVENTS_RATE = os.environ.get("API_EVENTS_RATE", "600/minute")
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The API is public; a session only lets the browsable API show who is logged in to the admin.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_THROTTLE_RATES": {"photo-search": API_PHOTO_SEARCH_RATE, "events": API_EVENTS_RATE},
    # Clients are told apart by address. Behind reverse proxies set their number, so that the address is
    # read from X-Forwarded-For; with none, a client could pick any address by sending that header itself.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
}
# allauth's rate limits read the address the same way (axes does through config.login_attempts.client_address).
ALLAUTH_TRUSTED_PROXY_COUNT = REST_FRAMEWORK["NUM_PROXIES"]
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SHOP_NAME} API",
    "DESCRIPTION": "The catalogue, similar items and search by photo.",
    "VERSION": "1.0.0",
    # An experiment's primary metric and its guardrails are the same choices: one enum in the schema.
    "ENUM_NAME_OVERRIDES": {"MetricEnum": "experiments.models.Metric"},
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: uploads are described as binary files.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files: the docs load nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would send the schema's address to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# The interaction log (events/): what shoppers do, for personal recommendations and A/B tests.
EVENTS_ENABLED = env_bool("EVENTS_ENABLED", True)
# Buffer events in each process and write them in batches from a background thread (off: write each at once, in the
# request's transaction, as the tests do).
EVENTS_BUFFERED = env_bool("EVENTS_BUFFERED", True)
EVENTS_FLUSH_SECONDS = env_float("EVENTS_FLUSH_SECONDS", 1.0)
EVENTS_BATCH_SIZE = env_int("EVENTS_BATCH_SIZE", 500)
# Events kept in a process's memory while the database cannot take them; the oldest beyond are spooled to files.
EVENTS_BUFFER_LIMIT = env_int("EVENTS_BUFFER_LIMIT", 50_000)
EVENTS_SPOOL_DIR = Path(os.environ.get("EVENTS_SPOOL_DIR", BASE_DIR / "var" / "events"))
# Events older than this are deleted by `prune_events` (and its daily Celery beat task).
EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 365)
EVENTS_VISITOR_COOKIE_AGE = env_int("EVENTS_VISITOR_COOKIE_AGE", 2 * 365 * 24 * 3600)
# Honour the shopper simulator's X-Lookalike-Synthetic header (`simulate_shoppers --http`): what such requests do is
# marked synthetic, and `simulate_shoppers --remove` deletes it, orders included. Off unless a site is simulated on.
EVENTS_ACCEPT_SYNTHETIC_HEADER = env_bool("EVENTS_ACCEPT_SYNTHETIC_HEADER", False)

# A/B tests (experiments/): clicks, add-to-carts and purchases count for the list that showed the product this many
# hours after it was shown; the results say how many visitors it takes to detect this relative lift.
EXPERIMENTS_ATTRIBUTION_HOURS = env_float("EXPERIMENTS_ATTRIBUTION_HOURS", 1.0)
EXPERIMENTS_MINIMUM_LIFT = env_float("EXPERIMENTS_MINIMUM_LIFT", 0.10)
# How long a process serves the running experiments it read (starting or stopping one clears the shared cache).
EXPERIMENTS_CACHE_SECONDS = env_int("EXPERIMENTS_CACHE_SECONDS", 30)

# Personal recommendations (personalization/), read from the interaction log. Strategies by name, as dotted paths:
# these replace or add to the built-in ones (see docs/personalization.md).
PERSONALIZATION_STRATEGIES: dict[str, str] = {}
PERSONALIZATION_LIST_SIZE = env_int("PERSONALIZATION_LIST_SIZE", 6)
# Trending: a view, a cart add and a purchase count this much, halved every half-life, over a window of days.
PERSONALIZATION_WEIGHTS = env_weights("PERSONALIZATION_WEIGHTS", "view=1,cart_add=3,purchase=5")
PERSONALIZATION_HALF_LIFE_HOURS = env_float("PERSONALIZATION_HALF_LIFE_HOURS", 72.0)
PERSONALIZATION_WINDOW_DAYS = env_int("PERSONALIZATION_WINDOW_DAYS", 30)
# Purchases this recent are not recommended again; at most this many products of one article type per list.
PERSONALIZATION_JUST_BOUGHT_DAYS = env_int("PERSONALIZATION_JUST_BOUGHT_DAYS", 30)
PERSONALIZATION_MAX_PER_ARTICLE_TYPE = env_int("PERSONALIZATION_MAX_PER_ARTICLE_TYPE", 2)
# How long the lists that are the same for every visitor (trending, also viewed/bought) are cached.
PERSONALIZATION_CACHE_SECONDS = env_int("PERSONALIZATION_CACHE_SECONDS", 60)
# The learnt strategies (for you, shoppers like you) are trained from this many days of the log every this many hours
# (celery beat); a process checks this often for a newer run. A visitor is folded in from their latest events.
PERSONALIZATION_TRAINING_DAYS = env_int("PERSONALIZATION_TRAINING_DAYS", 90)
PERSONALIZATION_TRAINING_HOURS = env_float("PERSONALIZATION_TRAINING_HOURS", 6.0)
PERSONALIZATION_MODEL_CHECK_SECONDS = env_float("PERSONALIZATION_MODEL_CHECK_SECONDS", 30.0)
PERSONALIZATION_HISTORY_EVENTS = env_int("PERSONALIZATION_HISTORY_EVENTS", 50)
CELERY_BEAT_SCHEDULE = {
    "prune-events": {"task": "events.tasks.prune_old_events", "schedule": 24 * 3600},
    "train-recommenders": {
        "task": "personalization.tasks.train_recommenders",
        "schedule": PERSONALIZATION_TRAINING_HOURS * 3600,
    },
}
