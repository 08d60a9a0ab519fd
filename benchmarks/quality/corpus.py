"""Deterministic generator of a labeled secret-scanning corpus.

The corpus imitates what small-team repositories hold: ops guides in markdown, `.env` files,
docker-compose, render.yaml, DigitalOcean app specs, GitHub workflows, Kubernetes manifests
(Secrets with base64 data), source files in several languages, notebooks, Terraform tfvars and
logs. Values are synthetic but in each provider's real format (GitHub and npm tokens carry a
valid CRC32 checksum, as real ones do). Next to the leaks sit hard negatives (placeholders,
templates, environment references, hashes, UUIDs, public keys, documented example keys,
lockfile integrity hashes, public identifiers) and test credentials, labeled as their own class
by their value and surroundings, never by path: test-mode keys (`sk_test_`), test-ish values,
CI service containers, trivial passwords to localhost or to a service the compose file declares.
A live-shaped key under `tests/` or in a recorded cassette under `spec/cassettes/` is a leak.

`labels.json` lists every credential: path, line span (`line`..`end_line`), class (`leak` or
`test-credential`), kind and an id. Unlabeled lines hold nothing a scanner should report.

Usage: python -m benchmarks.quality.corpus OUT_DIR [--seed N] [--scale N]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import string
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
_BANNED = ("test", "fake", "dummy", "example", "xxxx", "sample", "secret", "passw", "change", "todo", "your")


@dataclass
class Label:
    """One labeled credential."""

    path: str
    line: int
    end_line: int
    cls: str  # "leak" | "test-credential" | "negative" (a hard negative: any finding on it is false)
    kind: str
    id: str
    family: str = ""  # provider group: aws, azure, github, databases, ...
    form: str = ""  # how it is written: env, yaml, sql, markdown-table, url-userinfo, ...
    designed: bool = True  # False: a layout no rule was written from (reported apart)
    neg: str = ""  # for negatives: identifier, doc-example, placeholder, off-format


@dataclass
class Doc:
    """A file under construction: lines plus the labels that point into it."""

    path: str
    lines: list[str] = field(default_factory=list)
    marks: list[tuple[int, int, str, str]] = field(default_factory=list)  # (start, end, cls, kind), 1-based

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.extend(line.split("\n"))

    def secret(self, line: str, kind: str, cls: str = "leak", span_back: int = 0) -> None:
        """Add `line` (may hold newlines) as a credential; `span_back` widens the span upwards."""
        start = len(self.lines) + 1
        self.add(line)
        self.marks.append((start - span_back, len(self.lines), cls, kind))

    @property
    def lineno(self) -> int:
        return len(self.lines)


class Gen:
    """Random values in real provider formats, from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        while True:
            v = "".join(self.r.choice(alphabet) for _ in range(n))
            if not any(b in v.lower() for b in _BANNED) and len(set(v)) > min(n // 3, 8):
                return v

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def pick(self, items: list[str]) -> str:
        return self.r.choice(items)

    def password(self) -> str:
        return self.s(ALNUM + "!#%^*-_", self.r.randint(14, 28))

    def word(self) -> str:
        return self.pick(["ledger", "atlas", "orbit", "harbor", "maple", "quartz", "falcon", "cedar", "nova", "pilot"])

    @staticmethod
    def _b62(num: int, width: int) -> str:
        out = ""
        while num:
            num, rem = divmod(num, 62)
            out = B62[rem] + out
        return out.rjust(width, "0")

    def checksummed(self, prefix: str) -> str:
        body = self.s(ALNUM, 30)
        return prefix + body + self._b62(zlib.crc32(body.encode()), 6)

    # provider formats ---------------------------------------------------------------------------
    def token(self, kind: str) -> str:
        makers: dict[str, Callable[[], str]] = {
            "github-token": lambda: self.checksummed("ghp_"),
            "github-fine-grained": lambda: f"github_pat_{self.s(ALNUM, 22)}_{self.s(ALNUM, 59)}",
            "gitlab-token": lambda: "glpat-" + self.s(URLSAFE, 20),
            "slack-token": lambda: f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(ALNUM, 24)}",
            "stripe-key": lambda: "sk_live_" + self.s(ALNUM, self.r.choice([24, 99])),
            "stripe-restricted-key": lambda: "rk_live_" + self.s(ALNUM, 99),
            "stripe-webhook-secret": lambda: "whsec_" + self.s(ALNUM, 32),
            "openai-key": lambda: f"sk-proj-{self.s(URLSAFE, 74)}T3BlbkFJ{self.s(URLSAFE, 74)}",
            "anthropic-key": lambda: f"sk-ant-api03-{self.s(URLSAFE, 93)}AA",
            "sendgrid-key": lambda: f"SG.{self.s(URLSAFE, 22)}.{self.s(URLSAFE, 43)}",
            "twilio-auth-token": lambda: self.hex(32),
            "digitalocean-token": lambda: "dop_v1_" + self.hex(64),
            "huggingface-token": lambda: "hf_" + self.s(string.ascii_letters, 34),
            "npm-token": lambda: self.checksummed("npm_"),
            "google-api-key": lambda: "AIza" + self.s(URLSAFE, 35),
            "supabase-token": lambda: "sbp_" + self.hex(40),
            "datadog-api-key": lambda: self.hex(32),
            "sentry-token": lambda: "sntryu_" + self.hex(64),
            "telegram-bot-token": lambda: f"{self.s(string.digits, 10)}:AA{self.s(URLSAFE, 33)}",
            "shopify-token": lambda: "shpat_" + self.hex(32),
            "render-key": lambda: "rnd_" + self.s(ALNUM, 32),
            "vercel-token": lambda: self.s(ALNUM, 24),
            "heroku-key": lambda: "HRKU-AA" + self.s(URLSAFE, 58),
            "mailgun-key": lambda: "key-" + self.hex(32),
            "pypi-token": lambda: "pypi-AgEIcHlwaS5vcmc" + self.s(URLSAFE, 140),
            "neon-password": lambda: "npg_" + self.s(ALNUM, 12),
            "password": self.password,
            "django-secret-key": lambda: self.s(ALNUM + "!@#%^&*(-_=+)", 50),
            "jwt-secret": lambda: self.s(URLSAFE, 48),
        }
        return makers[kind]()

    def jwt(self, payload: dict[str, object]) -> str:
        def enc(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

        return enc({"alg": "HS256", "typ": "JWT"}) + "." + enc(payload) + "." + self.s(URLSAFE, 43)

    def aws_pair(self) -> tuple[str, str]:
        return "AKIA" + self.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), self.s(B64, 40)

    def pem(self, label: str = "RSA PRIVATE KEY") -> str:
        body = "\n".join(self.s(B64, 64) for _ in range(self.r.randint(8, 14)))
        return f"-----BEGIN {label}-----\nMIIE{self.s(B64, 60)}\n{body}\n{self.s(B64, 20)}==\n-----END {label}-----"

    def host(self) -> str:
        return self.pick(
            [
                f"db-postgresql-nyc3-{self.r.randint(10000, 99999)}-do-user-{self.r.randint(1000000, 9999999)}"
                "-0.b.db.ondigitalocean.com",
                f"ep-{self.word()}-{self.word()}-{self.r.randint(100000, 999999)}.us-east-2.aws.neon.tech",
                f"{self.word()}-prod.c{self.s(string.ascii_lowercase + string.digits, 10)}.eu-west-1.rds.amazonaws.com",
                f"dpg-{self.s(string.ascii_lowercase + string.digits, 20)}-a.oregon-postgres.render.com",
                "aws-0-us-east-1.pooler.supabase.com",
            ]
        )


# providers used in .env / code files: (kind, env var name)
PROVIDERS: list[tuple[str, str]] = [
    ("github-token", "GITHUB_TOKEN"),
    ("github-fine-grained", "GH_PAT"),
    ("gitlab-token", "GITLAB_TOKEN"),
    ("slack-token", "SLACK_BOT_TOKEN"),
    ("stripe-key", "STRIPE_SECRET_KEY"),
    ("stripe-restricted-key", "STRIPE_RESTRICTED_KEY"),
    ("stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET"),
    ("openai-key", "OPENAI_API_KEY"),
    ("anthropic-key", "ANTHROPIC_API_KEY"),
    ("sendgrid-key", "SENDGRID_API_KEY"),
    ("twilio-auth-token", "TWILIO_AUTH_TOKEN"),
    ("digitalocean-token", "DIGITALOCEAN_ACCESS_TOKEN"),
    ("huggingface-token", "HF_TOKEN"),
    ("npm-token", "NPM_TOKEN"),
    ("google-api-key", "GEMINI_API_KEY"),
    ("supabase-token", "SUPABASE_ACCESS_TOKEN"),
    ("datadog-api-key", "DD_API_KEY"),
    ("sentry-token", "SENTRY_AUTH_TOKEN"),
    ("telegram-bot-token", "TELEGRAM_BOT_TOKEN"),
    ("shopify-token", "SHOPIFY_ACCESS_TOKEN"),
    ("render-key", "RENDER_API_KEY"),
    ("vercel-token", "VERCEL_TOKEN"),
    ("heroku-key", "HEROKU_API_KEY"),
    ("mailgun-key", "MAILGUN_API_KEY"),
    ("pypi-token", "PYPI_TOKEN"),
    ("password", "DB_PASSWORD"),
    ("password", "SMTP_PASSWORD"),
    ("password", "REDIS_PASSWORD"),
    ("django-secret-key", "SECRET_KEY"),
    ("jwt-secret", "JWT_SECRET_KEY"),
]

PLACEHOLDERS = [
    "<YOUR_API_KEY>",
    "your-api-key-here",
    "changeme",
    "${API_KEY}",
    "$API_KEY",
    "xxxxxxxxxxxxxxxxxxxxxxxx",
    "<redacted>",
    "********",
    "{{ api_key }}",
    "replace-me",
    "your_token_here",
    "TODO",
    "<token>",
    "''",
]
NON_SECRET_ENV = [
    "NODE_ENV=production",
    "PORT=8000",
    "DEBUG=false",
    "LOG_LEVEL=info",
    "ALLOWED_HOSTS=app.example.org",
    "ACCESS_TOKEN_EXPIRE_MINUTES=15",
    "PASSWORD_MIN_LENGTH=12",
    "SESSION_COOKIE_SECURE=true",
    "TOKEN_URL=https://auth.internal/oauth/token",
    "SECRET_MANAGER=vault",
    "CELERY_BROKER_URL=redis://localhost:6379/0",
    "SENTRY_ENVIRONMENT=production",
    "FRONTEND_URL=https://app.internal",
    "AWS_REGION=us-east-1",
    "S3_BUCKET=uploads-prod",
    "RATE_LIMIT_PER_MINUTE=60",
    "JWT_ALGORITHM=HS256",
]


class Corpus:
    """Builds all files; `docs` accumulates `Doc`s, `extra` holds raw files with path-only labels."""

    def __init__(self, seed: int) -> None:
        self.g = Gen(seed)
        self.docs: list[Doc] = []
        self.raw: list[tuple[str, str, list[Label]]] = []

    # helpers --------------------------------------------------------------------------------------
    def doc(self, path: str) -> Doc:
        d = Doc(path)
        self.docs.append(d)
        return d

    def project(self, i: int) -> str:
        return f"{self.g.word()}-{self.g.word()}-{i}"

    def provider(self) -> tuple[str, str]:
        return self.g.r.choice(PROVIDERS)

    def negative_env(self, d: Doc, n: int) -> None:
        for _ in range(n):
            d.add(self.g.pick(NON_SECRET_ENV))

    # file kinds ----------------------------------------------------------------------------------
    def dotenv(self, root: str) -> None:
        d = self.doc(f"{root}/.env.production")
        d.add("# production settings", f"APP_NAME={self.g.word()}")
        self.negative_env(d, 3)
        for _ in range(self.g.r.randint(2, 5)):
            kind, name = self.provider()
            d.secret(f"{name}={self.g.token(kind)}", kind)
        if self.g.r.random() < 0.5:
            key, sec = self.g.aws_pair()
            d.add(f"AWS_ACCESS_KEY_ID={key}")
            d.secret(f"AWS_SECRET_ACCESS_KEY={sec}", "aws-secret-key", span_back=1)
        pw = self.g.password()
        d.secret(
            f"DATABASE_URL=postgresql://app_user:{pw}@{self.g.host()}:5432/app?sslmode=require",
            "postgres-password",
        )
        self.negative_env(d, 2)
        ex = self.doc(f"{root}/.env.example")
        ex.add("# copy to .env and fill in")
        for _ in range(6):
            _, name = self.provider()
            ex.add(f"{name}={self.g.pick(PLACEHOLDERS)}")
        ex.add(
            "DATABASE_URL=postgresql://user:password@localhost:5432/app_dev",
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SECRET_KEY=your-super-secret-key-change-this-in-production",
        )

    def compose(self, root: str) -> None:
        d = self.doc(f"{root}/docker-compose.yml")
        d.add("services:", "  db:", "    image: postgres:16", "    environment:", "      POSTGRES_USER: app")
        if self.g.r.random() < 0.5:
            d.secret(f"      POSTGRES_PASSWORD: {self.g.password()}", "postgres-password")
        else:
            d.add("      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}")
        d.add(
            "    volumes:",
            "      - pgdata:/var/lib/postgresql/data",
            "  web:",
            "    build: .",
            "    environment:",
            "      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app",
            "      REDIS_URL: redis://cache:6379/0",
        )
        kind, name = self.provider()
        d.secret(f"      {name}: {self.g.token(kind)}", kind)
        d.secret(
            "      REPORTS_DATABASE_URL: postgres://reports:reports@reportsdb:5432/reports",
            "postgres-password",
            cls="test-credential",
        )
        d.add("    env_file: .env", "  reportsdb:", "    image: postgres:16", "volumes:", "  pgdata: {}")

    def render_yaml(self, root: str) -> None:
        d = self.doc(f"{root}/render.yaml")
        d.add(
            "services:",
            "  - type: web",
            f"    name: {self.g.word()}-api",
            "    runtime: python",
            "    buildCommand: pip install -r requirements.txt",
            "    envVars:",
            "      - key: DATABASE_URL",
            "        fromDatabase:",
            "          name: main-db",
            "          property: connectionString",
            "      - key: SECRET_KEY",
            "        generateValue: true",
            "      - key: OPENAI_API_KEY",
            "        sync: false",
        )
        kind, name = self.provider()
        d.add(f"      - key: {name}")
        d.secret(f"        value: {self.g.token(kind)}", kind, span_back=1)

    def do_app_spec(self, root: str) -> None:
        d = self.doc(f"{root}/.do/app.yaml")
        d.add(
            f"name: {self.g.word()}",
            "region: nyc",
            "services:",
            "  - name: api",
            "    github:",
            "      repo: org/app",
            "      branch: main",
            "    envs:",
            "      - key: DJANGO_SETTINGS_MODULE",
            "        value: config.settings.production",
            "      - key: SECRET_KEY",
            "        scope: RUN_TIME",
            "        type: SECRET",
            f"        value: EV[1:{self.g.s(B64, 32)}:{self.g.s(B64, 80)}]",
        )
        kind, name = self.provider()
        d.add(f"      - key: {name}", "        scope: RUN_AND_BUILD_TIME")
        d.secret(f"        value: {self.g.token(kind)}", kind, span_back=2)
        d.add("      - key: DATABASE_URL", "        value: ${db.DATABASE_URL}")

    def workflow(self, root: str) -> None:
        d = self.doc(f"{root}/.github/workflows/ci.yml")
        d.add(
            "name: CI",
            "on: [push, pull_request]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-latest",
            "    services:",
            "      postgres:",
            "        image: postgres:15",
            "        env:",
            "          POSTGRES_USER: test_user",
        )
        d.secret("          POSTGRES_PASSWORD: test_pass", "postgres-password", cls="test-credential")
        d.add("          POSTGRES_DB: test_db", "        ports:", "          - 5432:5432", "    env:")
        d.secret(
            "      DATABASE_URL: postgres://test_user:test_pass@localhost:5432/test_db",
            "postgres-password",
            cls="test-credential",
        )
        d.add(
            "      SECRET_KEY: test-secret-key-not-for-production",
            "      OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}",
            "    steps:",
            "      - uses: actions/checkout@v4",
            "      - run: pip install -r requirements.txt && pytest",
            '      - run: curl -H "Authorization: Bearer ${{ secrets.DEPLOY_TOKEN }}" https://api.render.com/v1/x',
        )

    def k8s(self, root: str) -> None:
        d = self.doc(f"{root}/k8s/secret.yaml")
        d.add(
            "apiVersion: v1",
            "kind: ConfigMap",
            "metadata:",
            "  name: app-config",
            "data:",
            "  LOG_LEVEL: info",
            f'  REQUEST_ID_SALT_VERSION: "{self.g.r.randint(1, 9)}"',
            "---",
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: app-secrets",
            "type: Opaque",
            "data:",
        )
        pw = self.g.password()
        url = f"postgresql://app:{pw}@{self.g.host()}:5432/app"
        d.secret(f"  DATABASE_URL: {base64.b64encode(url.encode()).decode()}", "postgres-password")
        kind, name = self.provider()
        d.secret(f"  {name}: {base64.b64encode(self.g.token(kind).encode()).decode()}", kind)
        d.add(
            "---",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            "  name: api",
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
            "        - name: api",
            f"          image: ghcr.io/org/api@sha256:{self.g.hex(64)}",
            "          envFrom:",
            "            - secretRef:",
            "                name: app-secrets",
        )

    def python_settings(self, root: str) -> None:
        d = self.doc(f"{root}/config/settings/production.py")
        d.add(
            "import os",
            "from pathlib import Path",
            "",
            "BASE_DIR = Path(__file__).resolve().parent.parent",
            "",
        )
        d.secret(f"SECRET_KEY = '{self.g.token('django-secret-key')}'", "django-secret-key")
        d.add(
            "DEBUG = False",
            "DATABASES = {",
            "    'default': {",
            "        'ENGINE': 'django.db.backends.postgresql',",
            "        'NAME': 'app',",
            "        'USER': os.environ['DB_USER'],",
            "        'PASSWORD': os.environ.get('DB_PASSWORD'),",
            "    }",
            "}",
            "EMAIL_HOST = 'smtp.sendgrid.net'",
            "EMAIL_HOST_USER = 'apikey'",
        )
        d.secret(f"EMAIL_HOST_PASSWORD = '{self.g.token('sendgrid-key')}'", "sendgrid-key")
        d.add(
            "PASSWORD_RESET_TIMEOUT = 3600",
            "AUTH_PASSWORD_VALIDATORS = []",
            "SESSION_COOKIE_AGE = 60 * 60 * 24",
        )
        s = self.doc(f"{root}/app/payments.py")
        s.add("import stripe", "import boto3", "")
        s.secret(f'stripe.api_key = "{self.g.token("stripe-key")}"', "stripe-key")
        key, sec = self.g.aws_pair()
        s.add("s3 = boto3.client(", '    "s3",', f'    aws_access_key_id="{key}",')
        s.secret(f'    aws_secret_access_key="{sec}",', "aws-secret-key", span_back=1)
        s.add(
            ")",
            "",
            "def checksum(data: bytes) -> str:",
            f"    # known good: {self.g.hex(64)}",
            "    return hashlib.sha256(data).hexdigest()",
            f'REQUEST_NAMESPACE = "{self.g.uuid()}"',
            'api_key = os.getenv("PARTNER_API_KEY")',
            'password = request.form["password"]',
            "token = generate_token(user)",
        )

    def js(self, root: str) -> None:
        d = self.doc(f"{root}/web/src/config.js")
        d.add(
            "export const firebaseConfig = {",
            f'  apiKey: "AIza{self.g.s(URLSAFE, 35)}",',
            f'  authDomain: "{self.g.word()}-app.firebaseapp.com",',
            f'  projectId: "{self.g.word()}-app",',
            f'  appId: "1:{self.g.s(string.digits, 12)}:web:{self.g.hex(22)}",',
            "};",
            f'export const STRIPE_PUBLISHABLE_KEY = "pk_live_{self.g.s(ALNUM, 99)}";',
            f'export const SENTRY_DSN = "https://{self.g.hex(32)}@o{self.g.r.randint(100000, 999999)}'
            f'.ingest.sentry.io/{self.g.r.randint(1000000, 9999999)}";',
            "export const API_URL = process.env.NEXT_PUBLIC_API_URL;",
        )
        anon = self.g.jwt({"iss": "supabase", "ref": self.g.s(string.ascii_lowercase, 20), "role": "anon"})
        d.add(f'export const SUPABASE_ANON_KEY = "{anon}";')
        s = self.doc(f"{root}/server/lib/clients.ts")
        s.add("import OpenAI from 'openai';", "import { createClient } from '@supabase/supabase-js';", "")
        s.secret(f"const openai = new OpenAI({{ apiKey: '{self.g.token('openai-key')}' }});", "openai-key")
        role = self.g.jwt({"iss": "supabase", "ref": self.g.s(string.ascii_lowercase, 20), "role": "service_role"})
        s.secret(f"const SUPABASE_SERVICE_ROLE_KEY = '{role}';", "supabase-service-role")
        s.add(
            "const token = req.headers.authorization?.split(' ')[1];",
            "const secret = process.env.WEBHOOK_SECRET!;",
        )

    def go(self, root: str) -> None:
        d = self.doc(f"{root}/cmd/worker/main.go")
        d.add("package main", "", "import (", '\t"database/sql"', '\t"os"', ")", "", "const (")
        kind, _ = self.provider()
        d.secret(f'\tdefaultToken = "{self.g.token(kind)}"', kind)
        d.add(")", "", "func main() {")
        pw = self.g.password().replace('"', "")
        d.secret(
            f'\tdb, _ := sql.Open("mysql", "app:{pw}@tcp({self.g.word()}-db.internal:3306)/app")',
            "mysql-password",
        )
        d.add('\tapiKey := os.Getenv("API_KEY")', "\t_ = apiKey", "\t_ = db", "}")

    def java(self, root: str) -> None:
        d = self.doc(f"{root}/src/main/resources/application.properties")
        d.add(
            "server.port=8080",
            f"spring.datasource.url=jdbc:postgresql://{self.g.host()}:5432/app",
            "spring.datasource.username=app",
        )
        d.secret(f"spring.datasource.password={self.g.password()}", "postgres-password")
        d.add("spring.jpa.hibernate.ddl-auto=validate", "management.endpoints.web.exposure.include=health")
        y = self.doc(f"{root}/src/main/resources/application-local.yml")
        y.add(
            "spring:",
            "  datasource:",
            "    url: jdbc:postgresql://localhost:5432/app",
            "    username: ${DB_USER:app}",
            "    password: ${DB_PASSWORD:}",
        )

    def ruby(self, root: str) -> None:
        d = self.doc(f"{root}/config/database.yml")
        d.add(
            "default: &default",
            "  adapter: postgresql",
            "  pool: 5",
            "",
            "development:",
            "  <<: *default",
            "  database: app_development",
            "",
            "production:",
            "  <<: *default",
            "  database: app_production",
            "  username: app",
        )
        d.secret(f"  password: {self.g.password()}", "postgres-password")
        d.add(f"  host: {self.g.host()}")
        s = self.doc(f"{root}/config/initializers/stripe.rb")
        s.secret(f"Stripe.api_key = '{self.g.token('stripe-key')}'", "stripe-key")
        s.add("Rails.configuration.stripe = { publishable_key: ENV['STRIPE_PUBLISHABLE_KEY'] }")

    def notebook(self, root: str) -> None:
        kind, name = self.g.r.choice(
            [
                ("openai-key", "openai.api_key"),
                ("huggingface-token", "HF_TOKEN"),
                ("anthropic-key", "ANTHROPIC_API_KEY"),
            ]
        )
        value = self.g.token(kind)
        cells = [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# Exploration\n", "Load data and call the API.\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "outputs": [],
                "source": ["import os\n", f'{name} = "{value}"\n', "df = load()\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 2,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"run id {self.g.uuid()}\n"]}],
                "source": ["print(run())\n"],
            },
        ]
        text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
        path = f"{root}/notebooks/explore.ipynb"
        line = text[: text.index(value)].count("\n") + 1
        self.raw.append((path, text + "\n", [Label(path, line, line, "leak", kind, "")]))

    def tfvars(self, root: str) -> None:
        d = self.doc(f"{root}/infra/prod.tfvars")
        d.add('region = "nyc3"', f'app_name = "{self.g.word()}"', 'db_size = "db-s-1vcpu-1gb"')
        d.secret(f'do_token = "{self.g.token("digitalocean-token")}"', "digitalocean-token")
        d.secret(f'db_password = "{self.g.password()}"', "postgres-password")
        v = self.doc(f"{root}/infra/variables.tf")
        v.add(
            'variable "db_password" {',
            "  type      = string",
            "  sensitive = true",
            "}",
            'variable "do_token" {',
            '  description = "DigitalOcean API token"',
            "}",
            'resource "digitalocean_database_user" "app" {',
            "  password = var.db_password",
            "}",
        )

    def log(self, root: str) -> None:
        d = self.doc(f"{root}/logs/app.log")
        for _ in range(6):
            d.add(
                f"2024-05-0{self.g.r.randint(1, 9)}T10:{self.g.r.randint(10, 59)}:00Z INFO request_id={self.g.uuid()} "
                f"path=/api/v1/items status=200 etag={self.g.hex(40)}"
            )
        tok = self.g.jwt({"sub": self.g.uuid(), "exp": 1893456000, "scope": "admin"})
        d.secret(f"2024-05-03T10:22:41Z DEBUG outgoing headers={{'Authorization': 'Bearer {tok}'}}", "jwt")
        d.add(f"2024-05-03T10:22:42Z INFO commit={self.g.hex(40)} deployed")
        pw = self.g.password()
        d.secret(
            f"2024-05-03T10:23:00Z ERROR connect failed dsn=redis://default:{pw}@{self.g.word()}-cache.internal:6379/0",
            "redis-password",
        )

    def guide(self, root: str) -> None:
        d = self.doc(f"{root}/docs/OPERATIONS.md")
        d.add(f"# {self.g.word().title()} operations", "", "## Production database", "")
        host = self.g.host()
        d.add(f"- **Host:** {host}", "- **Port:** 25060", "- **Database:** defaultdb", "- **User:** doadmin")
        d.secret(f"- **Password:** AVNS_{self.g.s(URLSAFE, 19)}", "postgres-password", span_back=4)
        d.add(
            "",
            "Connect with:",
            "",
            "```bash",
            "PGPASSWORD=<DB_PASSWORD> psql \\",
            f"  -h {host} \\",
            "  -U doadmin -d defaultdb -p 25060",
            "```",
            "",
            "Textbook form:",
            "`postgresql://user:password@host:5432/database_name`",
            "",
        )
        if self.g.r.random() < 0.5:
            d.add("## Cache", "")
            d.secret(
                f"REDIS_URL=rediss://default:{self.g.password()}@{self.g.word()}-valkey.db.ondigitalocean.com:25061",
                "redis-password",
            )
        d.add(
            "",
            "## Rotating the OpenAI key",
            "",
            "1. Create a key at https://platform.openai.com/api-keys",
            "2. Set `OPENAI_API_KEY` in the DO console",
            "3. Revoke the old key",
            "",
        )
        if self.g.r.random() < 0.6:
            d.add("Staging uses:", "", "```")
            d.secret(
                f"PGPASSWORD={self.g.token('neon-password')} psql -h {self.g.host()} -U app app",
                "postgres-password",
            )
            d.add("```")
        d.add(
            "",
            "Example key from the AWS docs: `AKIAIOSFODNN7EXAMPLE`.",
            f"Deploy commit `{self.g.hex(40)}`; app id `{self.g.uuid()}`.",
        )

    def keys(self, root: str) -> None:
        d = self.doc(f"{root}/deploy/id_deploy")
        d.secret(self.g.pem("OPENSSH PRIVATE KEY"), "private-key")
        p = self.doc(f"{root}/deploy/id_deploy.pub")
        p.add(f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{self.g.s(B64, 43)} deploy@{self.g.word()}")
        c = self.doc(f"{root}/deploy/server.crt")
        c.add(self.g.pem("CERTIFICATE"))
        k = self.doc(f"{root}/deploy/jwt-public.pem")
        k.add(self.g.pem("PUBLIC KEY"))

    def lockfile(self, root: str) -> None:
        d = self.doc(f"{root}/package-lock.json")
        d.add("{", f'  "name": "{self.g.word()}",', '  "lockfileVersion": 3,', '  "packages": {')
        for i in range(12):
            digest = base64.b64encode(self.g.r.randbytes(64)).decode()
            d.add(
                f'    "node_modules/pkg-{i}": {{',
                f'      "version": "1.{i}.0",',
                f'      "resolved": "https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.{i}.0.tgz",',
                f'      "integrity": "sha512-{digest}"',
                "    },",
            )
        d.add('    "": {}', "  }", "}")
        p = self.doc(f"{root}/poetry.lock")
        for i in range(8):
            p.add(
                "[[package]]",
                f'name = "lib{i}"',
                'version = "2.0.1"',
                "files = [",
                f'    {{file = "lib{i}-2.0.1.tar.gz", hash = "sha256:{self.g.hex(64)}"}},',
                "]",
                "",
            )

    def tests(self, root: str) -> None:
        d = self.doc(f"{root}/tests/test_clients.py")
        d.add("import pytest", "", "from app.clients import make_client", "")
        kind, name = self.g.r.choice(
            [
                ("github-token", "GH"),
                ("stripe-key", "STRIPE"),
                ("openai-key", "OPENAI"),
                ("slack-token", "SLACK"),
            ]
        )
        # a live-shaped token in a test file is a leak: test code is where real keys get pasted
        d.secret(f'{name}_TOKEN = "{self.g.token(kind)}"', kind)
        d.secret(f'STRIPE_TEST_KEY = "sk_test_{self.g.s(ALNUM, 24)}"', "stripe-key", cls="test-credential")
        d.add(
            "",
            "def test_client_sends_token(httpx_mock):",
            f"    client = make_client({name}_TOKEN)",
            "    assert client.headers['Authorization']",
        )
        d.secret(
            f'    db = connect("postgresql://postgres:{self.g.password()}@localhost:5432/test_app")',
            "postgres-password",
            cls="test-credential",
        )
        f = self.doc(f"{root}/tests/fixtures/settings.env")
        f.secret(f"SENDGRID_API_KEY={self.g.token('sendgrid-key')}", "sendgrid-key")  # copied from production
        f.secret("DB_PASSWORD=test_password_123", "password", cls="test-credential")
        f.secret("DATABASE_URL=postgres://app:app@localhost:5432/app_test", "postgres-password", cls="test-credential")
        s = self.doc(f"{root}/spec/support/stripe_helper.rb")
        s.secret(f"STRIPE_KEY = 'sk_live_{self.g.s(ALNUM, 24)}'", "stripe-key")
        c = self.doc(f"{root}/spec/cassettes/charges.yml")
        c.add(
            "---",
            "http_interactions:",
            "- request:",
            "    method: post",
            "    uri: https://api.stripe.com/v1/charges",
            "    headers:",
            "      Authorization:",
        )
        c.secret(f"      - Bearer sk_live_{self.g.s(ALNUM, 24)}", "stripe-key")  # a recorded live key
        c.add("  response:", "    status:", "      code: 200")

    def misc_negatives(self, root: str) -> None:
        d = self.doc(f"{root}/README.md")
        d.add(
            f"# {self.g.word()}",
            "",
            "![logo](data:image/png;base64," + self.g.s(B64, 180) + ")",
            "",
            "Set `STRIPE_SECRET_KEY=sk_live_...` in your environment.",
            "```bash",
            "export OPENAI_API_KEY=your-openai-key",
            "export DATABASE_URL=$DATABASE_URL",
            "```",
            f"Checksum: `sha256:{self.g.hex(64)}`",
            f"Build: `{self.g.hex(7)}`",
            "Vault file: `$ANSIBLE_VAULT;1.1;AES256`",
            "",
            "```",
            "\n".join(self.g.hex(80) for _ in range(3)),
            "```",
            f"Docker image digest sha256:{self.g.hex(64)}",
            f"password hashing uses bcrypt: `$2b$12${self.g.s(ALNUM + './', 53)}`",
        )

    # build ---------------------------------------------------------------------------------------
    def build(self, scale: int) -> None:
        makers = [
            self.dotenv,
            self.compose,
            self.render_yaml,
            self.do_app_spec,
            self.workflow,
            self.k8s,
            self.python_settings,
            self.js,
            self.go,
            self.java,
            self.ruby,
            self.notebook,
            self.tfvars,
            self.log,
            self.guide,
            self.keys,
            self.lockfile,
            self.tests,
            self.misc_negatives,
        ]
        for i in range(scale):
            root = self.project(i)
            for make in makers:
                if make in (self.go, self.java, self.ruby, self.notebook, self.keys) and self.g.r.random() < 0.4:
                    continue
                make(root)

    def write(self, out: Path) -> list[Label]:
        if out.exists():
            shutil.rmtree(out)
        labels: list[Label] = []
        files: dict[str, dict[str, object]] = {}
        n = 0
        for d in self.docs:
            path = out / "repo" / d.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(d.lines) + "\n")
            files[d.path] = {"family": "", "form": legacy_form(d.path), "designed": True}
            for start, end, cls, kind in d.marks:
                n += 1
                labels.append(Label(d.path, start, end, cls, kind, f"c{n:05d}", family_of(kind), legacy_form(d.path)))
        for rel, text, labs in self.raw:
            path = out / "repo" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            for lab in labs:
                n += 1
                lab.id = f"c{n:05d}"
                lab.family = lab.family or family_of(lab.kind)
                lab.form = lab.form or legacy_form(rel)
                labels.append(lab)
            first = labs[0] if labs else None
            files[rel] = {
                "family": first.family if first and rel.startswith("forms/") else "",
                "form": first.form if first else legacy_form(rel),
                "designed": first.designed if first else True,
            }
        (out / "labels.json").write_text(json.dumps([asdict(x) for x in labels], indent=1) + "\n")
        (out / "files.json").write_text(json.dumps(files, indent=1, sort_keys=True) + "\n")
        return labels


FAMILY_OF_KIND = {
    "aws-secret-key": "aws",
    "github-token": "github",
    "github-fine-grained": "github",
    "gitlab-token": "gitlab",
    "slack-token": "slack",
    "stripe-key": "stripe",
    "stripe-restricted-key": "stripe",
    "stripe-webhook-secret": "stripe",
    "openai-key": "ai",
    "anthropic-key": "ai",
    "huggingface-token": "ai",
    "sendgrid-key": "email",
    "mailgun-key": "email",
    "twilio-auth-token": "twilio",
    "digitalocean-token": "hosting",
    "render-key": "hosting",
    "vercel-token": "hosting",
    "heroku-key": "hosting",
    "npm-token": "registries",
    "pypi-token": "registries",
    "google-api-key": "gcp",
    "supabase-token": "databases",
    "supabase-service-role": "databases",
    "neon-password": "databases",
    "postgres-password": "databases",
    "mysql-password": "databases",
    "redis-password": "databases",
    "password": "databases",
    "datadog-api-key": "observability",
    "sentry-token": "observability",
    "telegram-bot-token": "messaging",
    "shopify-token": "commerce",
    "django-secret-key": "app-secrets",
    "jwt-secret": "app-secrets",
    "jwt": "app-secrets",
    "private-key": "keys",
}


def family_of(kind: str) -> str:
    """The provider group of a credential kind (the per-family tables' rows)."""
    return FAMILY_OF_KIND.get(kind, "other")


def legacy_form(path: str) -> str:
    """The form of a file of the project corpus, from its name (the per-form tables' rows)."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith("forms/"):
        return path.split("/")[1]
    if name.startswith(".env") or name.endswith(".env"):
        return "env"
    if "k8s/" in path:
        return "k8s-secret"
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.endswith(".ipynb"):
        return "notebook"
    if name.endswith(".tfvars"):
        return "tfvars"
    if name.endswith(".log"):
        return "log"
    if name.endswith(".md"):
        return "markdown-prose"
    if name.endswith((".py", ".ts", ".js", ".go", ".rb", ".properties")):
        return "code-constant"
    if name.endswith((".json", ".lock")):
        return "lockfile"
    return "key-file"


def forms_reps(scale: int) -> int:
    """How many cases of each family x form the forms part holds at `scale` (1 at scale 1..7)."""
    return max(1, scale // 8)


def generate(out: Path, seed: int = 1337, scale: int = 16, forms: bool = True) -> list[Label]:
    """Write the corpus under `out/repo`, `out/labels.json` and `out/files.json`; return the labels.

    `forms` adds the families x forms part (`benchmarks/quality/forms.py`) under `repo/forms/`,
    from its own RNG stream (seed + 1), so the project part is the same with or without it.
    """
    corpus = Corpus(seed)
    corpus.build(scale)
    if forms:
        from benchmarks.quality import forms as forms_mod

        corpus.raw.extend(forms_mod.build(Gen(seed + 1), forms_reps(scale)))
    return corpus.write(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--scale", type=int, default=16, help="number of synthetic projects")
    parser.add_argument("--no-forms", action="store_true", help="only the projects, not the families x forms part")
    args = parser.parse_args()
    labels = generate(args.out, args.seed, args.scale, forms=not args.no_forms)
    files = sum(1 for p in (args.out / "repo").rglob("*") if p.is_file())
    print(f"{files} files, {len(labels)} labeled credentials in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
