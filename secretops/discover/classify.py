"""From what the sources said to what a secret most likely is: kind, issuer, strategy.

`classify_env(name, ...)` decides whether an env var holds a secret and which one
(`Classification`): a database URL whose example host is `*.neon.tech` is Neon Postgres, one on
`*.supabase.co` Supabase, on `*.db.ondigitalocean.com` DigitalOcean's managed Postgres;
`REDIS_URL` goes to an ACL-managed Redis/Valkey, or to a console reset for DigitalOcean's
managed Valkey and Upstash (no ACL users to overlap); `OPENAI_API_KEY` is a dashboard-only key
with a manual issuer; `SECRET_KEY` in a Django app is an app-held key rotated with
`SECRET_KEY_FALLBACKS`. Identifiers (`*_ID`, `*_SID`), URLs without credentials, hosts, ports
and flags are not secrets.

`VENDORS` is the vocabulary of dashboard-issued keys: the conventional env var, the kind, and
where a person mints a new one. The tables are data so docs/discover.md can list them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from secretops.inventory.models import Strategy

__all__ = [
    "FRONTEND_PREFIXES",
    "PROVIDERS",
    "VENDORS",
    "Classification",
    "Vendor",
    "classify_env",
    "is_identifier",
    "provider_of",
    "strip_frontend",
]

FRONTEND_PREFIXES = ("VITE_", "NEXT_PUBLIC_", "REACT_APP_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "PUBLIC_")


@dataclass(frozen=True, slots=True)
class Vendor:
    """A vendor whose key a person mints in a dashboard (`manual` issuer)."""

    word: str
    env: str
    kind: str
    url: str | None
    instructions: str
    revoke: str | None = None
    webhook_env: str | None = None
    prefixes: tuple[str, ...] = ()


VENDORS: dict[str, Vendor] = {
    "openai": Vendor(
        "OpenAI",
        "OPENAI_API_KEY",
        "api-key:openai",
        "https://platform.openai.com/api-keys",
        "Create a new secret key in the OpenAI dashboard (API keys) and paste it here.",
        "Revoke the previous key on the API keys page.",
        prefixes=("OPENAI_",),
    ),
    "anthropic": Vendor(
        "Anthropic",
        "ANTHROPIC_API_KEY",
        "api-key:anthropic",
        "https://console.anthropic.com/settings/keys",
        "Create a new API key in the Anthropic console and paste it here.",
        "Delete the previous key in the console.",
        prefixes=("ANTHROPIC_",),
    ),
    "plaid": Vendor(
        "Plaid",
        "PLAID_SECRET",
        "api-key:plaid",
        "https://dashboard.plaid.com/developers/keys",
        "In the Plaid dashboard (Developers > Keys), rotate the secret and paste the new one here.",
        "Delete the previous secret on the same page.",
        prefixes=("PLAID_SECRET",),
    ),
    "stripe": Vendor(
        "Stripe",
        "STRIPE_SECRET_KEY",
        "api-key:stripe",
        "https://dashboard.stripe.com/apikeys",
        "Roll the secret key in the Stripe dashboard (Developers > API keys), give the old key an"
        " expiry, and paste the new key here.",
        None,
        "STRIPE_WEBHOOK_SECRET",
        prefixes=("STRIPE_SECRET", "STRIPE_API"),
    ),
    "gemini": Vendor(
        "Gemini",
        "GEMINI_API_KEY",
        "api-key:google",
        "https://console.cloud.google.com/apis/credentials",
        "Create a new API key restricted to the Generative Language API and paste it here.",
        "Delete the previous key in Google Cloud Console > APIs & Services > Credentials.",
        prefixes=("GEMINI_", "GOOGLE_API_KEY"),
    ),
    "twilio": Vendor(
        "Twilio",
        "TWILIO_AUTH_TOKEN",
        "api-key:twilio",
        "https://console.twilio.com/us1/account/keys-credentials/api-keys",
        "In the Twilio Console (Account > API keys & tokens), request a secondary Auth Token and paste it here.",
        "Promote the secondary token to primary once every consumer runs on it.",
        prefixes=("TWILIO_AUTH", "TWILIO_API"),
    ),
    "sendgrid": Vendor(
        "SendGrid",
        "SENDGRID_API_KEY",
        "api-key:sendgrid",
        "https://app.sendgrid.com/settings/api_keys",
        "Create a new API key in SendGrid (Settings > API Keys) and paste it here.",
        "Delete the previous key.",
        prefixes=("SENDGRID_",),
    ),
    "sentry": Vendor(
        "Sentry",
        "SENTRY_DSN",
        "sentry-dsn",
        "https://sentry.io/settings/",
        "In Sentry (Project Settings > Client Keys), create a new key and paste its DSN.",
        "Disable, then delete, the previous client key.",
        prefixes=("SENTRY_DSN",),
    ),
    "render": Vendor(
        "Render",
        "RENDER_API_KEY",
        "api-key:render",
        "https://dashboard.render.com/u/settings#api-keys",
        "Create a new Render API key (Account Settings > API Keys) and paste it here.",
        "Delete the previous API key in Account Settings.",
    ),
    "vercel": Vendor(
        "Vercel",
        "VERCEL_TOKEN",
        "api-key:vercel",
        "https://vercel.com/account/settings/tokens",
        "Create a new Vercel token and paste it here.",
        "Delete the previous token on the same page.",
    ),
    "digitalocean": Vendor(
        "DigitalOcean",
        "DIGITALOCEAN_TOKEN",
        "api-key:digitalocean",
        "https://cloud.digitalocean.com/account/api/tokens",
        "Generate a new personal access token and paste it here.",
        "Delete the previous token.",
    ),
}
"""Dashboard-issued keys by vendor id. `word` is how guides name the vendor; `prefixes` are the
env var prefixes that already hold the vendor's main key (so a mention adds nothing)."""

# Issuer kinds and providers: host suffix -> (provider, sslmode).
PROVIDERS: dict[str, tuple[str, str | None]] = {
    ".neon.tech": ("Neon", "require"),
    ".supabase.co": ("Supabase", "require"),
    ".supabase.com": ("Supabase", "require"),
    ".db.ondigitalocean.com": ("DigitalOcean managed database", "require"),
    ".render.com": ("Render Postgres", "require"),
    ".rds.amazonaws.com": ("Amazon RDS", "require"),
    ".upstash.io": ("Upstash", None),
    ".railway.app": ("Railway", None),
}
"""Managed database providers, by host suffix (with the sslmode they require)."""

_DB_NAME = re.compile(r"^(?:[A-Z0-9]+_)*(DATABASE|DB|POSTGRES|POSTGRESQL|PG|MYSQL)_(URL|URI|DSN)$|^DATABASE_URL$")
_REDIS_NAME = re.compile(
    r"^(?:[A-Z0-9]+_)*(REDIS|VALKEY|CACHE|BROKER|CELERY_BROKER|CELERY_RESULT_BACKEND|RQ)(_URL|_URI|_BACKEND)?$"
)
_IDENTIFIER = re.compile(
    r"(_ID|_SID|_IDS|_NAME|_USER|_USERNAME|_HOST|_PORT|_REGION|_BUCKET(_NAME)?|_NUMBER|_EMAIL|_FROM|_LEVEL|_ALGORITHM|_MINUTES|_HOURS|_DAYS|_SECONDS|_TTL|_EXPIRE(_[A-Z]+)?|_SIZE|_MODE|_ENABLED|_PATH|_DIR|_VERSION|_ENV|_ENVIRONMENT|_MODULE|_COUNT|_LIMIT)$"
)
_SECRET_WORDS = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|SECRETS|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|SIGNING_KEY|ENCRYPTION_KEY|AUTH_KEY|KEY|DSN|CREDENTIALS)$"
)
_CREDENTIAL_SCHEMES = (
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "mongodb",
    "mongodb+srv",
)
_PUBLISHABLE = re.compile(r"PUBLISHABLE|PUBLIC_KEY|_PUB_KEY|ANON_KEY|SITE_KEY")


@dataclass(frozen=True, slots=True)
class Classification:
    """What a secret-bearing env var most likely is.

    `group` says which env vars hold the same credential (REDIS_URL and CELERY_BROKER_URL on one
    Valkey; SENTRY_DSN and VITE_SENTRY_DSN of one project). `issuer_kind` is a policy issuer
    kind; `provider` a human name for comments; `reason` says why, for the evidence report.
    """

    kind: str
    issuer_kind: str
    strategy: Strategy
    group: str
    reason: str
    provider: str | None = None
    vendor: str | None = None
    generator: str = "issuer"


def strip_frontend(name: str) -> str:
    """`VITE_SENTRY_DSN` -> `SENTRY_DSN` (a frontend build var holds the same value)."""
    for prefix in FRONTEND_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def is_identifier(name: str) -> bool:
    """An identifier or setting, not a credential: `RENDER_SERVICE_ID`, `TWILIO_ACCOUNT_SID`, `SMTP_USER`."""
    return bool(_IDENTIFIER.search(name)) and not _SECRET_WORDS.search(name)


def provider_of(host: str | None) -> tuple[str, str | None] | None:
    """(provider, sslmode) of a managed database host, or None."""
    if not host:
        return None
    for suffix, found in PROVIDERS.items():
        if host.endswith(suffix):
            return found
    return None


def _vendor_for(stem: str) -> str | None:
    for vid, vendor in VENDORS.items():
        if stem == vendor.env or any(stem.startswith(p) for p in vendor.prefixes):
            return vid
        if stem.startswith(vid.upper() + "_"):
            return vid
    return None


def classify_env(
    name: str,
    *,
    declared: bool | None = None,
    scheme: str | None = None,
    host: str | None = None,
    framework: str | None = None,
    database: str | None = None,
) -> Classification | None:
    """The secret `name` most likely holds, or None when it is not a secret.

    `declared` is what a source said (True: marked secret; False: marked plain). `scheme` and
    `host` come from an example value; `framework` is the app's (django, flask, fastapi, ...);
    `database` the database the guide administers (postgres, mysql) when no URL says.
    """
    if declared is False:
        return None
    stem = strip_frontend(name)
    if scheme in ("http", "https", "ws", "wss") and not stem.endswith("DSN"):
        return None
    if _PUBLISHABLE.search(stem):
        return None
    if _DB_NAME.match(stem) or (
        scheme in ("postgres", "postgresql", "mysql", "mariadb") and stem.endswith(("_URL", "_URI"))
    ):
        engine = "mysql" if (scheme or database or "").startswith(("mysql", "mariadb")) else "postgres"
        prov = provider_of(host)
        provider = prov[0] if prov else ("self-hosted" if host else None)
        reason = f"{name} is a {engine} connection URL" + (f" on {host} ({provider})" if host and prov else "")
        return Classification(
            f"{engine}-password",
            engine,
            Strategy.ALTERNATE,
            f"db:{host or 'primary'}",
            reason,
            provider,
            generator="password",
        )
    if _REDIS_NAME.match(stem) or scheme in ("redis", "rediss"):
        if stem.endswith(("_HOST", "_PORT", "_DB")):
            return None
        prov = provider_of(host)
        manual = prov is not None and prov[0] in ("DigitalOcean managed database", "Upstash")
        reason = f"{name} is a Redis/Valkey URL" + (f" on {host} ({prov[0]})" if host and prov else "")
        if manual and prov is not None:
            provider = "DigitalOcean managed Valkey" if prov[0].startswith("DigitalOcean") else prov[0]
            reason = f"{name} is a Redis/Valkey URL on {host} ({provider})"
            return Classification(
                "redis-password",
                "manual",
                Strategy.REPLACE,
                f"redis:{host}",
                reason + ": no ACL users, the password is reset in the provider's console",
                provider,
            )
        return Classification(
            "redis-password",
            "redis",
            Strategy.OVERLAP,
            f"redis:{host or 'primary'}",
            reason,
            prov[0] if prov else None,
            generator="password",
        )
    if scheme in _CREDENTIAL_SCHEMES:
        return Classification(
            f"{scheme}-password", "manual", Strategy.REPLACE, f"url:{stem}", f"{name} is a {scheme} URL"
        )
    if stem in ("SECRET_KEY", "DJANGO_SECRET_KEY", "FLASK_SECRET_KEY", "APP_SECRET_KEY", "SECRET_KEY_BASE", "APP_KEY"):
        if framework == "django" or stem == "DJANGO_SECRET_KEY":
            return Classification(
                "django-secret-key",
                "app",
                Strategy.OVERLAP,
                "app:django",
                f"{name} in a Django app: signs sessions; SECRET_KEY_FALLBACKS keeps the old key valid",
                generator="django-secret-key",
            )
        kind = "flask-secret-key" if framework == "flask" or stem == "FLASK_SECRET_KEY" else "app-secret-key"
        return Classification(
            kind,
            "app",
            Strategy.REPLACE,
            f"app:{stem}",
            f"{name}: an app-held signing key"
            + (f" ({framework})" if framework else "")
            + "; changing it signs everyone out",
            generator="token",
        )
    if re.search(r"(^|_)JWT(_|$)", stem) and _SECRET_WORDS.search(stem):
        return Classification(
            "jwt-hmac",
            "app",
            Strategy.OVERLAP,
            f"app:{stem}",
            f"{name}: a JWT signing key the app holds",
            generator="jwt-hmac",
        )
    if stem == "STRIPE_WEBHOOK_SECRET" or re.search(r"WEBHOOK_(SECRET|SIGNING)", stem):
        vendor = _vendor_for(stem)
        return Classification(
            f"{vendor or 'webhook'}-webhook-secret" if vendor else "webhook-secret",
            "manual",
            Strategy.OVERLAP,
            f"key:{stem}",
            f"{name}: a webhook signing secret",
            vendor=vendor,
        )
    if stem.endswith("DSN") and "SENTRY" in stem:
        return Classification(
            "sentry-dsn", "manual", Strategy.OVERLAP, "key:SENTRY_DSN", f"{name}: a Sentry client key", vendor="sentry"
        )
    if stem in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
        return Classification("aws-iam-key", "aws-iam", Strategy.OVERLAP, "aws:default", f"{name}: an IAM access key")
    if is_identifier(stem):
        return None
    if re.search(r"(SMTP|EMAIL|MAIL)_?(PASSWORD|PASS)$", stem):
        return Classification(
            "smtp-password",
            "manual",
            Strategy.OVERLAP,
            f"key:{stem}",
            f"{name}: a mail account password (an app password can be created before the old one is deleted)",
        )
    if _SECRET_WORDS.search(stem) or declared is True:
        vendor = _vendor_for(stem)
        if re.search(r"PASSWORD|PASSWD|PASS$|PWD$", stem):
            return Classification(
                "password",
                "manual",
                Strategy.REPLACE,
                f"key:{stem}",
                f"{name}: an account password (one per account: consumers break until redeployed)",
                vendor=vendor,
            )
        kind = (
            VENDORS[vendor].kind if vendor else (f"api-key:{stem.split('_')[0].lower()}" if "_" in stem else "api-key")
        )
        return Classification(
            kind,
            "manual",
            Strategy.OVERLAP,
            f"key:{stem}",
            f"{name}: a key a person mints in {VENDORS[vendor].word if vendor else 'a dashboard'}",
            vendor=vendor,
        )
    return None
