"""Families x forms: one credential per small file, labeled with its provider family and its form.

Two parts, reported apart:

* **designed**: the forms issue 11 lists (env file, YAML, JSON, code constant, code env default,
  SQL, Markdown table, labeled bullet/prose, CLI flag, Authorization header, URL userinfo,
  Terraform tfvars, Ansible vars, .npmrc, .netrc, .pgpass, .git-credentials, Docker config,
  `~/.aws/credentials`, Kubernetes Secret, notebook), each across the families it applies to.
  Rules exist for these forms because the issue asked for them, so a high score here shows the
  rules do what they were written to do, no more.
* **not designed for**: layouts no secretops rule was written from: real configuration files
  written in from their projects' documentation (WordPress `wp-config.php`, Maven
  `settings.xml`, NuGet.config, ASP.NET `appsettings.json`, MySQL `my.cnf`, pip.conf, gh
  `hosts.yml`, `.pypirc`, Bitnami Helm values, redis.conf, gradle.properties, Spring mail,
  grafana.ini, Kafka JAAS, pgbouncer userlist, postgres_fdw user mappings, PHP PDO, JDBC and ODBC
  strings), and the layouts gitleaks' rule tests generate for every rule (`GenerateSampleSecrets`
  in gitleaks' cmd/generate/config/utils: INI, JSON, XML, YAML block scalars, C#, Go, Java,
  Kotlin, PHP, Python, CSV, logstash, Makefile assignments), with the family's name as the
  identifier. These were written from the layouts, never from the rules, and not changed after a
  run.

Every form also gets hard negatives in the same layout: identifiers (UUIDs, git SHAs, SHA-256
hashes, image digests), documentation example keys (AWS's `AKIAIOSFODNN7EXAMPLE`, GitHub's docs
token, Slack's `xoxb-not-a-real-token...`, Azurite's well-known account key, Stripe's documented
test key), placeholders, and values one character off a real format (a CRC32 checksum off by
one, one character short, one letter of the prefix changed). Forms where a value is a password
(SQL, URL userinfo, .pgpass, CLI password flags) get no identifier negatives: a UUID is a fine
password. Paths carry no hint of the label (`forms/<form>/<n>/<file>`).
"""

from __future__ import annotations

import base64
import json
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.quality.corpus import ALNUM, B64, URLSAFE, Gen, Label

UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Family:
    """A provider group: how to make its credentials and its hard negatives."""

    name: str
    kind: str
    make: Callable[[Gen], Pairs]  # (variable name, value) pairs; the last one is the secret
    off: Callable[[Gen], Pairs]  # one character off the real format, same variable names
    doc: Pairs  # a documentation example credential
    user: str = "app"
    host: str = "api.internal"
    password_like: bool = False  # the value is a password: no identifier negatives


def _crc_token(g: Gen, prefix: str, bad: bool = False) -> str:
    body = g.s(ALNUM, 30)
    crc = zlib.crc32(body.encode()) + (1 if bad else 0)
    return prefix + body + g._b62(crc & 0xFFFFFFFF, 6)


def _one(name: str, value: str) -> Pairs:
    return [(name, value)]


def _azure(g: Gen) -> Pairs:
    which = g.r.randrange(3)
    if which == 0:
        return _one(
            "AZURE_STORAGE_CONNECTION_STRING",
            f"DefaultEndpointsProtocol=https;AccountName={g.word()}{g.s(string.digits, 4)};"
            f"AccountKey={g.s(B64, 86)}==;EndpointSuffix=core.windows.net",
        )
    if which == 1:
        return _one(
            "SERVICEBUS_CONNECTION_STRING",
            f"Endpoint=sb://{g.word()}-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
            f"SharedAccessKey={g.s(B64, 43)}=",
        )
    return _one("AZURE_CLIENT_SECRET", f"{g.s(ALNUM, 3)}{g.s(string.digits, 1)}Q~{g.s(URLSAFE + '.~', 34)}")


def _slack(g: Gen) -> Pairs:
    which = g.r.randrange(3)
    if which == 0:
        return _one("SLACK_BOT_TOKEN", f"xoxb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}")
    if which == 1:
        value = f"xoxp-{g.s(string.digits, 12)}-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.hex(32)}"
        return _one("SLACK_USER_TOKEN", value)
    value = f"xapp-1-A{g.s(string.ascii_uppercase + string.digits, 10)}-{g.s(string.digits, 13)}-{g.hex(64)}"
    return _one("SLACK_APP_TOKEN", value)


def _email(g: Gen) -> Pairs:
    which = g.r.random()
    if which < 0.5:
        return _one("SENDGRID_API_KEY", f"SG.{g.s(URLSAFE, 22)}.{g.s(URLSAFE, 43)}")
    if which < 0.8:
        return _one("MAILGUN_API_KEY", "key-" + g.hex(32))
    # a Gmail app password: 16 lowercase letters (Google shows them in groups of four: f_bullet)
    return _one("GMAIL_APP_PASSWORD", g.s(string.ascii_lowercase, 16))


def _gitlab(g: Gen) -> Pairs:
    prefix = g.pick(["glpat-", "glptt-", "gldt-", "glrt-"])
    # pipeline trigger tokens are 40 hex after the prefix; personal, deploy and runner tokens 20 URL-safe
    return _one("GITLAB_TOKEN", prefix + (g.hex(40) if prefix == "glptt-" else g.s(URLSAFE, 20)))


def _ai(g: Gen) -> Pairs:
    which = g.r.randrange(3)
    if which == 0:
        return _one("OPENAI_API_KEY", f"sk-proj-{g.s(URLSAFE, 74)}T3BlbkFJ{g.s(URLSAFE, 74)}")
    if which == 1:
        return _one("ANTHROPIC_API_KEY", f"sk-ant-api03-{g.s(URLSAFE, 93)}AA")
    return _one("HF_TOKEN", "hf_" + g.s(string.ascii_letters, 34))


def _registries(g: Gen) -> Pairs:
    which = g.r.randrange(3)
    if which == 0:
        return _one("NPM_TOKEN", _crc_token(g, "npm_"))
    if which == 1:
        return _one("PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmc" + g.s(URLSAFE, 140))
    return _one("DOCKERHUB_TOKEN", "dckr_pat_" + g.s(URLSAFE, 27))


FAMILIES: list[Family] = [
    Family(
        "aws",
        "aws-secret-key",
        lambda g: [
            ("AWS_ACCESS_KEY_ID", "AKIA" + g.s(UPPER32, 16)),
            ("AWS_SECRET_ACCESS_KEY", g.s(B64, 40)),
        ],
        lambda g: _one("AWS_ACCESS_KEY_ID", "AKIA" + g.s(UPPER32, 15)),
        [
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ],
    ),
    Family(
        "azure",
        "azure-storage-key",
        _azure,
        lambda g: _one("AZURE_CLIENT_SECRET", f"{g.s(ALNUM, 3)}{g.s(string.digits, 1)}Q~{g.s(URLSAFE, 33)}"),
        _one(
            "AZURE_STORAGE_CONNECTION_STRING",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
        ),
    ),
    Family(
        "gcp",
        "google-api-key",
        lambda g: (
            _one("GOOGLE_API_KEY", "AIza" + g.s(URLSAFE, 35))
            if g.r.random() < 0.5
            else _one("GOOGLE_CLIENT_SECRET", "GOCSPX-" + g.s(URLSAFE, 28))
        ),
        lambda g: _one("GOOGLE_API_KEY", "AIza" + g.s(URLSAFE, 34)),
        _one("GOOGLE_CLIENT_SECRET", "GOCSPX-<your-client-secret>"),
    ),
    Family(
        "slack",
        "slack-token",
        _slack,
        lambda g: _one("SLACK_BOT_TOKEN", f"xoqb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}"),
        _one("SLACK_BOT_TOKEN", "xoxb-not-a-real-token-this-will-not-work"),
    ),
    Family(
        "github",
        "github-token",
        lambda g: (
            _one("GITHUB_TOKEN", _crc_token(g, g.pick(["ghp_", "gho_", "ghs_", "ghu_"])))
            if g.r.random() < 0.7
            else _one("GH_PAT", f"github_pat_{g.s(ALNUM, 22)}_{g.s(ALNUM, 59)}")
        ),
        lambda g: _one("GITHUB_TOKEN", _crc_token(g, "ghp_", bad=True)),
        _one("GITHUB_TOKEN", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
        user="x-access-token",
        host="github.com",
    ),
    Family(
        "gitlab",
        "gitlab-token",
        _gitlab,
        lambda g: _one("GITLAB_TOKEN", "glpaz-" + g.s(URLSAFE, 20)),
        _one("GITLAB_TOKEN", "glpat-xxxxxxxxxxxxxxxxxxxx"),
        user="oauth2",
        host="gitlab.com",
    ),
    Family(
        "stripe",
        "stripe-key",
        lambda g: _one("STRIPE_SECRET_KEY", g.pick(["sk_live_", "rk_live_"]) + g.s(ALNUM, g.r.choice([24, 99]))),
        lambda g: _one("STRIPE_SECRET_KEY", "sk_lime_" + g.s(ALNUM, 24)),
        _one("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ),
    Family(
        "twilio",
        "twilio-auth-token",
        lambda g: (
            [("TWILIO_ACCOUNT_SID", "AC" + g.hex(32)), ("TWILIO_AUTH_TOKEN", g.hex(32))]
            if g.r.random() < 0.5
            else [("TWILIO_API_KEY", "SK" + g.hex(32)), ("TWILIO_API_SECRET", g.s(ALNUM, 32))]
        ),
        lambda g: _one("TWILIO_API_KEY", "SK" + g.hex(31)),
        [("TWILIO_ACCOUNT_SID", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), ("TWILIO_AUTH_TOKEN", "your_auth_token")],
    ),
    Family(
        "ai",
        "openai-key",
        _ai,
        lambda g: _one("HF_TOKEN", "hf_" + g.s(string.ascii_letters, 33)),
        _one("OPENAI_API_KEY", "sk-...your-key-here"),
    ),
    Family(
        "email",
        "sendgrid-key",
        _email,
        lambda g: _one("SENDGRID_API_KEY", f"SG.{g.s(URLSAFE, 21)}.{g.s(URLSAFE, 43)}"),
        _one("SENDGRID_API_KEY", "SG.<your-sendgrid-api-key>"),
    ),
    Family(
        "hashicorp",
        "vault-token",
        lambda g: (
            _one("VAULT_TOKEN", "hvs." + g.s(ALNUM, 24))
            if g.r.random() < 0.5
            else _one("TF_TOKEN_app_terraform_io", f"{g.s(ALNUM, 14)}.atlasv1.{g.s(ALNUM, 67)}")
        ),
        lambda g: _one("VAULT_TOKEN", "hvz." + g.s(ALNUM, 24)),
        _one("VAULT_TOKEN", "hvs.<token>"),
    ),
    Family(
        "registries",
        "npm-token",
        _registries,
        lambda g: _one("NPM_TOKEN", _crc_token(g, "npm_", bad=True)),
        _one("NPM_TOKEN", "npm_<your-token>"),
        user="deploy",
        host="registry.npmjs.org",
    ),
    Family(
        "hosting",
        "digitalocean-token",
        lambda g: (
            _one("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_" + g.hex(64))
            if g.r.random() < 0.5
            else _one("HEROKU_API_KEY", "HRKU-AA" + g.s(URLSAFE, 58))
        ),
        lambda g: _one("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_" + g.hex(63)),
        _one("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_<your-token>"),
        user="ops@corp.internal",
        host="api.heroku.com",
    ),
    Family(
        "messaging",
        "telegram-bot-token",
        lambda g: (
            _one("TELEGRAM_BOT_TOKEN", f"{g.s(string.digits, 10)}:AA{g.s(URLSAFE, 33)}")
            if g.r.random() < 0.5
            else _one(
                "DISCORD_WEBHOOK_URL",
                f"https://discord.com/api/webhooks/{g.s(string.digits, 18)}/{g.s(URLSAFE, 68)}",
            )
        ),
        lambda g: _one("TELEGRAM_BOT_TOKEN", f"{g.s(string.digits, 10)}:AA{g.s(URLSAFE, 32)}"),
        _one("TELEGRAM_BOT_TOKEN", "123456789:ABCdefGhIJKlmNoPQRsTUVwxyZ"),
    ),
    Family(
        "observability",
        "sentry-token",
        lambda g: (
            _one("SENTRY_AUTH_TOKEN", "sntryu_" + g.hex(64))
            if g.r.random() < 0.5
            else _one("GRAFANA_SERVICE_ACCOUNT_TOKEN", f"glsa_{g.s(ALNUM, 32)}_{g.hex(8)}")
        ),
        lambda g: _one("SENTRY_AUTH_TOKEN", "sntryu_" + g.hex(63)),
        _one("SENTRY_AUTH_TOKEN", "sntrys_YOUR_TOKEN_HERE"),
    ),
    Family(
        "databases",
        "password",
        lambda g: _one("DB_PASSWORD", g.password()),
        lambda g: _one("DB_PASSWORD", "password"),
        _one("DB_PASSWORD", "<password>"),
        user="app_user",
        host="db.prod.internal",
        password_like=True,
    ),
]
FAMILY = {f.name: f for f in FAMILIES}

IDENTIFIER_NAMES = ["REQUEST_ID", "GIT_SHA", "ARTIFACT_SHA256", "IMAGE_DIGEST", "TENANT_ID", "BUILD_COMMIT"]
PLACEHOLDERS = [
    "<your-token>",
    "${SECRET_VALUE}",
    "changeme",
    "xxxxxxxxxxxxxxxx",
    "REPLACE_ME",
    "{{ token }}",
    "********",
]


def identifier(g: Gen) -> Pairs:
    """An identifier that looks random but is not a secret, under a name that says so."""
    which = g.r.randrange(4)
    if which == 0:
        return _one("TENANT_ID", g.uuid())
    if which == 1:
        return _one("GIT_SHA", g.hex(40))
    if which == 2:
        return _one("ARTIFACT_SHA256", g.hex(64))
    return _one("IMAGE_DIGEST", "sha256:" + g.hex(64))


# forms -----------------------------------------------------------------------------------------
# A form renders pairs into (file name, lines, first and last 1-based line of the credential);
# None when it does not apply to the family.
Rendered = tuple[str, list[str], int, int]


def _wrap(name: str, before: list[str], body: list[str], after: list[str]) -> Rendered:
    return name, before + body + after, len(before) + 1, len(before) + len(body)


def _lower(var: str) -> str:
    return var.lower()


def _camel(var: str) -> str:
    parts = var.lower().split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def f_env(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    body = [f"{k}={v}" for k, v in pairs]
    return _wrap(".env", ["# service settings", "NODE_ENV=production", "PORT=8080"], body, ["LOG_LEVEL=info"])


def f_yaml(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    body = [f"    {_lower(k)}: {v}" for k, v in pairs]
    return _wrap("config.yaml", ["app:", f"  name: {g.word()}", f"  {fam.name}:"], body, ["  timeout: 30"])


def f_json(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    body = [f'    "{_camel(k)}": {json.dumps(v)},' for k, v in pairs]
    return _wrap("settings.json", ["{", f'  "{fam.name}": {{'], body, ['    "retries": 3', "  }", "}"])


def f_code_constant(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    lang = g.r.randrange(5)
    if lang == 0:
        return _wrap("settings.py", ["import os", ""], [f'{k} = "{v}"' for k, v in pairs], ["TIMEOUT = 30"])
    if lang == 1:
        body = [f'\t{_camel(k)} = "{v}"' for k, v in pairs]
        return _wrap("config.go", ["package config", "", "const ("], body, [")"])
    if lang == 2:
        body = [f'    private static final String {k} = "{v}";' for k, v in pairs]
        return _wrap("Config.java", ["package app;", "", "public final class Config {"], body, ["}"])
    if lang == 3:
        body = [f'        private const string {_camel(k).title()} = "{v}";' for k, v in pairs]
        return _wrap(
            "Settings.cs", ["namespace App", "{", "    public static class Settings", "    {"], body, ["    }", "}"]
        )
    body = [f"export const {k} = '{v}';" for k, v in pairs]
    return _wrap("config.ts", ["import { z } from 'zod';", ""], body, ["export const TIMEOUT = 30;"])


def f_code_env_default(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    lang = g.r.randrange(6)
    if lang == 0:
        body = [f'{_lower(k)} = os.environ.get("{k}", "{v}")' for k, v in pairs]
        return _wrap("settings.py", ["import os", ""], body, [])
    if lang == 1:
        body = [f"{_lower(k)} = os.getenv('{k}', '{v}')" for k, v in pairs]
        return _wrap("config.py", ["import os", ""], body, [])
    if lang == 2:
        body = [f"const {_camel(k)} = process.env.{k} || '{v}';" for k, v in pairs]
        return _wrap("config.js", ["'use strict';", ""], body, ["module.exports = {};"])
    if lang == 3:
        body = [f'  config.{_lower(k)} = ENV.fetch("{k}", "{v}")' for k, v in pairs]
        return _wrap("production.rb", ["Rails.application.configure do"], body, ["end"])
    if lang == 4:
        body = [f"    '{_lower(k)}' => env('{k}', '{v}')," for k, v in pairs]
        return _wrap("services.php", ["<?php", "", "return ["], body, ["];"])
    body = [f'{_lower(k)} = config("{k}", default="{v}")' for k, v in pairs]
    return _wrap("settings.py", ["from decouple import config", ""], body, [])


def f_sql(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if not fam.password_like:
        return None
    pw = pairs[-1][1].replace("'", "")
    user = f"{g.word()}_svc"
    line = g.pick(
        [
            f"CREATE ROLE {user} WITH LOGIN PASSWORD '{pw}';",
            f"ALTER ROLE {user} WITH PASSWORD '{pw}';",
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}';",
            f'ALTER USER {user} IDENTIFIED BY "{pw}";',
            f"SET PASSWORD FOR '{user}'@'localhost' = '{pw}';",
            f"CREATE LOGIN {user} WITH PASSWORD = '{pw}';",
        ]
    )
    return _wrap(
        "0003_roles.sql",
        ["-- roles for the reporting service", "BEGIN;"],
        [line],
        [f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user};", "COMMIT;"],
    )


def f_markdown_table(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.password_like:
        body = ["| Password | `" + pairs[-1][1] + "` |"]
        before = [
            "## Production database",
            "",
            "| Field | Value |",
            "|---|---|",
            f"| Host | `{fam.host}` |",
            "| Port | 5432 |",
            f"| User | `{fam.user}` |",
        ]
        return "SETUP.md", before + body + [""], len(before) - 3, len(before) + 1
    body = [f"| `{k}` | {'Plain' if k in IDENTIFIER_NAMES else 'Secret'} | `{v}` |" for k, v in pairs]
    return _wrap(
        "DEPLOY.md",
        ["## Environment", "", "| Variable | Type | Value |", "|---|---|---|", "| `NODE_ENV` | Plain | `production` |"],
        body,
        [""],
    )


def f_bullet(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    label = {"databases": "Password"}.get(fam.name, "API key" if g.r.random() < 0.5 else "Token")
    if pairs[-1][0] == "GMAIL_APP_PASSWORD":  # under an SMTP heading, as ops guides write it
        before = ["# Runbook", "", "## SMTP", "", "- Server: smtp.gmail.com:587", "- User: alerts@corp.internal"]
        v = pairs[-1][1]
        shown = " ".join(v[i : i + 4] for i in range(0, len(v), 4)) if len(v) == 16 and v.isalpha() else v
        return "RUNBOOK.md", [*before, f"- App password: {shown}", ""], len(before) - 1, len(before) + 1
    if fam.password_like:
        before = ["# Runbook", "", "## Database", "", f"- Host: {fam.host}", f"- User: {fam.user}"]
        return "RUNBOOK.md", [*before, f"- {label}: {pairs[-1][1]}", ""], len(before) - 1, len(before) + 1
    named = len(pairs) > 1 or pairs[0][0] in IDENTIFIER_NAMES
    body = [f"- {k.replace('_', ' ').title()}: {v}" for k, v in pairs] if named else [f"- {label}: {pairs[-1][1]}"]
    return _wrap("RUNBOOK.md", ["# Runbook", "", f"## {fam.name.title()}", ""], body, ["", "Rotate quarterly."])


def f_cli(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    k, v = pairs[-1]
    if fam.name == "aws":
        line = f"aws configure set aws_secret_access_key {v}"
    elif fam.password_like:
        line = g.pick(
            [
                f"mysql -u {fam.user} -p{v} -h {fam.host} app",
                f"PGPASSWORD={v} psql -h {fam.host} -U {fam.user} app",
                f"redis-cli -h {fam.host} -a {v} ping",
                f"docker login -u {fam.user} -p {v} registry.internal",
                f"curl -u {fam.user}:{v} https://{fam.host}/api/health",
            ]
        )
    else:
        line = g.pick(
            [
                f"heroku config:set {k}={v} -a {g.word()}-prod",
                f"kubectl create secret generic app --from-literal={k}={v}",
                f"docker run -e {k}={v} ghcr.io/org/app:latest",
                f"fly secrets set {k}={v}",
            ]
        )
    return _wrap("deploy.sh", ["#!/usr/bin/env bash", "set -euo pipefail"], [line], ["echo done"])


def f_auth_header(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name in ("aws", "databases", "azure") or pairs[-1][1].startswith("https://"):
        return None
    v = pairs[-1][1]
    scheme = "token" if fam.name == "github" and g.r.random() < 0.5 else "Bearer"
    line = g.pick(
        [
            f'curl -sS -H "Authorization: {scheme} {v}" https://{fam.host}/v1/items',
            f"Authorization: {scheme} {v}",
        ]
    )
    return _wrap(
        "requests.http", ["### list items", f"GET https://{fam.host}/v1/items"], [line], ["Accept: application/json"]
    )


def f_url_userinfo(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    v = pairs[-1][1]
    if fam.password_like:
        scheme = g.pick(["postgresql", "mysql", "redis", "amqp", "mongodb+srv"])
        url = f"{scheme}://{fam.user}:{v}@{fam.host}/app"
    elif fam.name in ("github", "gitlab"):
        url = f"https://{fam.user}:{v}@{fam.host}/org/{g.word()}.git"
    else:
        return None
    return _wrap("ci.sh", ["#!/bin/sh"], [f'REMOTE="{url}"'], ['echo "using remote"'])


def f_tfvars(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    body = [f'{_lower(k)} = "{v}"' for k, v in pairs]
    return _wrap("prod.auto.tfvars", ['region = "eu-west-1"', f'name = "{g.word()}"'], body, ["instance_count = 2"])


def f_ansible(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    body = [f'{_lower(k)}: "{v}"' for k, v in pairs]
    return _wrap("all.yml", ["---", "app_user: deploy", "app_port: 8080"], body, ["app_workers: 4"])


def f_npmrc(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name != "registries" or not pairs[-1][1].startswith("npm_"):
        return None
    return _wrap(
        ".npmrc",
        ["registry=https://registry.npmjs.org/"],
        [f"//registry.npmjs.org/:_authToken={pairs[-1][1]}"],
        ["save-exact=true"],
    )


def f_netrc(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name not in ("github", "hosting", "databases"):
        return None
    host = "github.com" if fam.name == "github" else fam.host
    return _wrap(".netrc", [], [f"machine {host} login {fam.user} password {pairs[-1][1]}"], [])


def f_pgpass(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if not fam.password_like:
        return None
    return _wrap(".pgpass", [], [f"{fam.host}:5432:app:{fam.user}:{pairs[-1][1].replace(':', '')}"], [])


def f_git_credentials(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name not in ("github", "gitlab"):
        return None
    user = g.word() if g.r.random() < 0.5 else fam.user
    return _wrap(".git-credentials", [], [f"https://{user}:{pairs[-1][1]}@{fam.host}"], [])


def f_docker_config(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name not in ("registries", "github", "databases"):
        return None
    registry = {"github": "ghcr.io", "registries": "https://index.docker.io/v1/"}.get(
        fam.name, "registry.corp.internal"
    )
    auth = base64.b64encode(f"{fam.user}:{pairs[-1][1]}".encode()).decode()
    return _wrap(
        "config.json",
        ["{", '  "auths": {', f'    "{registry}": {{'],
        [f'      "auth": "{auth}"'],
        ["    }", "  }", "}"],
    )


def f_aws_credentials(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    if fam.name != "aws":
        return None
    body = [f"{k.lower()} = {v}" for k, v in pairs]
    return _wrap("credentials", ["[default]"] if g.r.random() < 0.5 else ["[prod]"], body, ["region = eu-west-1"])


def f_k8s_secret(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    before = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {g.word()}-secrets", "type: Opaque"]
    if g.r.random() < 0.6:
        body = [f"  {k}: {base64.b64encode(v.encode()).decode()}" for k, v in pairs]
        return _wrap("secret.yaml", [*before, "data:"], body, [])
    body = [f"  {k}: {json.dumps(v)}" for k, v in pairs]
    return _wrap("secret.yaml", [*before, "stringData:"], body, [])


def f_notebook(g: Gen, fam: Family, pairs: Pairs) -> Rendered | None:
    src = ["import os\n"] + [
        (f'os.environ["{k}"] = "{v}"\n' if g.r.random() < 0.5 else f'{k} = "{v}"\n') for k, v in pairs
    ]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Analysis\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": src},
    ]
    text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    lines = text.split("\n")
    first = next(i for i, ln in enumerate(lines) if pairs[0][0] in ln and "import" not in ln) + 1
    last = next(i for i, ln in enumerate(lines) if pairs[-1][0] in ln and "import" not in ln) + 1
    return "analysis.ipynb", lines, first, last


DESIGNED: dict[str, Callable[[Gen, Family, Pairs], Rendered | None]] = {
    "env": f_env,
    "yaml": f_yaml,
    "json": f_json,
    "code-constant": f_code_constant,
    "code-env-default": f_code_env_default,
    "sql": f_sql,
    "markdown-table": f_markdown_table,
    "bullet-prose": f_bullet,
    "cli-flag": f_cli,
    "auth-header": f_auth_header,
    "url-userinfo": f_url_userinfo,
    "tfvars": f_tfvars,
    "ansible-vars": f_ansible,
    "npmrc": f_npmrc,
    "netrc": f_netrc,
    "pgpass": f_pgpass,
    "git-credentials": f_git_credentials,
    "docker-config": f_docker_config,
    "aws-credentials": f_aws_credentials,
    "k8s-secret": f_k8s_secret,
    "notebook": f_notebook,
}
# forms where the value sits in a credential slot (a password, a bearer, a flag's secret): whatever its
# shape it is a credential there, so identifiers and off-format values are not negatives
PASSWORD_FORMS = {
    "sql",
    "url-userinfo",
    "pgpass",
    "netrc",
    "docker-config",
    "auth-header",
    "git-credentials",
    "cli-flag",
}


# not designed for: layouts from projects' documentation -----------------------------------------
# Each maker returns (form, family, file name, lines, first, last) for a credential or a negative.
DocCase = tuple[str, str, str, list[str], int, int]


def _doc(form: str, family: str, name: str, before: list[str], body: list[str], after: list[str]) -> DocCase:
    return form, family, name, before + body + after, len(before) + 1, len(before) + len(body)


def doc_layouts(g: Gen, neg: bool) -> list[DocCase]:
    """One case per documented layout; `neg` renders the layout's own placeholder instead."""
    pw = "password_here" if neg else g.password().replace("'", "").replace('"', "")
    ghp = "<personal-access-token>" if neg else _crc_token(g, "ghp_")
    gho = "<token>" if neg else _crc_token(g, "gho_")
    pypi = "<your-pypi-token>" if neg else "pypi-AgEIcHlwaS5vcmc" + g.s(URLSAFE, 140)
    host = f"{g.word()}-db.internal"
    return [
        _doc(
            "wp-config.php",
            "databases",
            "wp-config.php",
            ["<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );"],
            [f"define( 'DB_PASSWORD', '{pw}' );"],
            ["define( 'DB_HOST', 'localhost' );"],
        ),
        _doc(
            "maven-settings.xml",
            "registries",
            "settings.xml",
            ["<settings>", "  <servers>", "    <server>", "      <id>ossrh</id>", "      <username>deploy</username>"],
            [f"      <password>{pw}</password>"],
            ["    </server>", "  </servers>", "</settings>"],
        ),
        _doc(
            "nuget.config",
            "github",
            "NuGet.config",
            [
                '<?xml version="1.0" encoding="utf-8"?>',
                "<configuration>",
                "  <packageSourceCredentials>",
                "    <github>",
                '      <add key="Username" value="ci-bot" />',
            ],
            [f'      <add key="ClearTextPassword" value="{ghp}" />'],
            ["    </github>", "  </packageSourceCredentials>", "</configuration>"],
        ),
        _doc(
            "appsettings.json",
            "databases",
            "appsettings.json",
            ["{", '  "ConnectionStrings": {'],
            [
                f'    "DefaultConnection": "Server=tcp:{g.word()}.database.windows.net,1433;'
                f'Initial Catalog=app;User ID=app;Password={pw};Encrypt=True;"'
            ],
            ["  }", "}"],
        ),
        _doc("my.cnf", "databases", "my.cnf", ["[client]", "user=app", f"host={host}"], [f"password={pw}"], []),
        _doc(
            "pip.conf",
            "registries",
            "pip.conf",
            ["[global]"],
            [f"index-url = https://deploy:{pw}@pypi.corp.internal/simple"],
            ["timeout = 60"],
        ),
        _doc(
            "gh-hosts.yml",
            "github",
            "hosts.yml",
            ["github.com:"],
            [f"    oauth_token: {gho}"],
            ["    user: ci-bot", "    git_protocol: https"],
        ),
        _doc(
            ".pypirc",
            "registries",
            ".pypirc",
            ["[distutils]", "index-servers = pypi", "", "[pypi]", "username = __token__"],
            [f"password = {pypi}"],
            [],
        ),
        _doc(
            "helm-values.yaml",
            "databases",
            "values.yaml",
            ["auth:", "  username: app", "  database: app"],
            [f"  postgresPassword: {pw}"],
            ["primary:", "  persistence:", "    size: 8Gi"],
        ),
        _doc(
            "redis.conf",
            "databases",
            "redis.conf",
            ["bind 0.0.0.0", "port 6379"],
            [f"requirepass {pw}"],
            ["maxmemory 256mb"],
        ),
        _doc(
            "gradle.properties",
            "registries",
            "gradle.properties",
            ["org.gradle.jvmargs=-Xmx2g", "ossrhUsername=deploy"],
            [f"ossrhPassword={pw}"],
            ["signing.keyId=24875D73"],
        ),
        _doc(
            "spring-mail.yml",
            "email",
            "application.yml",
            ["spring:", "  mail:", "    host: smtp.gmail.com", "    port: 587", "    username: alerts@corp.internal"],
            [f"    password: {pw}"],
            ["    properties:", "      mail.smtp.starttls.enable: true"],
        ),
        _doc(
            "grafana.ini",
            "observability",
            "grafana.ini",
            ["[server]", "http_port = 3000", "", "[security]", "admin_user = admin"],
            [f"admin_password = {pw}"],
            [],
        ),
        _doc(
            "kafka-jaas",
            "messaging",
            "client.properties",
            ["bootstrap.servers=broker:9092", "security.protocol=SASL_SSL", "sasl.mechanism=PLAIN"],
            [
                "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="app" password="{pw}";'
            ],
            [],
        ),
        _doc(
            "pgbouncer-userlist",
            "databases",
            "userlist.txt",
            ['"admin" "md5' + (g.hex(32) if not neg else "<md5>") + '"'],
            [f'"app" "{pw}"'],
            [],
        ),
        _doc(
            "postgres-fdw",
            "databases",
            "fdw.sql",
            [f"CREATE SERVER reports FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', dbname 'reports');"],
            [f"CREATE USER MAPPING FOR app SERVER reports OPTIONS (user 'reporter', password '{pw}');"],
            [],
        ),
        _doc(
            "php-pdo",
            "databases",
            "db.php",
            ["<?php"],
            [f"$pdo = new PDO('mysql:host={host};dbname=app', 'app', '{pw}');"],
            [],
        ),
        _doc(
            "jdbc-url",
            "databases",
            "db.properties",
            ["driver=com.mysql.cj.jdbc.Driver"],
            [f"url=jdbc:mysql://{host}:3306/app?user=app&password={pw}"],
            [],
        ),
        _doc(
            "odbc",
            "databases",
            "odbc.ini",
            ["[app]"],
            [f"Driver=ODBC Driver 18 for SQL Server;Server={host};Database=app;Uid=app;Pwd={pw};"],
            [],
        ),
    ]


# not designed for: gitleaks' GenerateSampleSecrets layouts ({i} identifier, {s} secret) ----------
GITLEAKS_LAYOUTS: dict[str, str] = {
    "ini-quoted": '{i}Token="{s}"',
    "ini-unquoted": "{i}Token = {s}",
    "json-string": '{\n    "{i}_token": "{s}"\n}',
    "json-escaped": '\\{\n    \\"{i}_token\\": \\"{s}\\"\n\\}',
    "xml-element": "<{i}Token>{s}</{i}Token>",
    "xml-multiline": "<{i}Token>\n    {s}\n</{i}Token>",
    "yaml-quoted": "{i}_token: '{s}'",
    "yaml-literal": "{i}_token: |\n  {s}",
    "yaml-folded": "{i}_token: >\n  {s}",
    "csharp": 'string {i}Token = "{s}";',
    "go-backticks": "{i}Token := `{s}`",
    "java": 'String {i}Token = "{s}";',
    "kotlin": 'var {i}Token = "{s}"',
    "php-concat": '${i}Token .= "{s}"',
    "python": "{i}Token = '{s}'",
    "csv": "{i}Token,{s},",
    "logstash": '  "{i}Token" => "{s}"',
    "make-simple": '{i}_TOKEN := "{s}"',
    "make-conditional": '{i}_TOKEN ?= "{s}"',
    "make-append": '{i}_TOKEN += "{s}"',
}
GITLEAKS_FAMILIES = [
    "github",
    "gitlab",
    "slack",
    "stripe",
    "ai",
    "email",
    "hashicorp",
    "registries",
    "hosting",
    "observability",
    "gcp",
    "azure",
]


LAYOUT_FILES = {
    "ini": "config.ini",
    "json": "data.json",
    "xml": "config.xml",
    "yaml": "config.yaml",
    "csharp": "Config.cs",
    "go": "main.go",
    "java": "App.java",
    "kotlin": "App.kt",
    "php": "app.php",
    "python": "app.py",
    "csv": "data.csv",
    "logstash": "pipeline.conf",
    "make": "Makefile",
}


def gitleaks_layout(layout: str, identifier: str, secret: str) -> tuple[str, list[str], int, int]:
    """A gitleaks sample layout as a file: name, lines, and the credential's span (the snippet)."""
    text = GITLEAKS_LAYOUTS[layout].replace("{i}", identifier).replace("{s}", secret)
    lines = text.split("\n")
    return LAYOUT_FILES[layout.split("-")[0]], lines, 1, len(lines)


# build -------------------------------------------------------------------------------------------
Raw = tuple[str, str, list[Label]]
NEG_KINDS = ["identifier", "doc-example", "placeholder", "off-format"]
MIN_CASES = 6


def _negative(g: Gen, fam: Family, neg: str) -> Pairs:
    if neg == "identifier":
        return identifier(g)
    if neg == "doc-example":
        return list(fam.doc)
    if neg == "placeholder":
        return [(name, g.pick(PLACEHOLDERS)) for name, _ in fam.doc]
    return fam.off(g)


def build(g: Gen, reps: int) -> list[Raw]:
    """All family x form cases, `reps` of each, one file per case; labels carry family and form."""
    out: list[Raw] = []

    def add(form: str, family: str, designed: bool, case: Rendered, cls: str, kind: str, neg: str = "") -> None:
        name, lines, first, last = case
        path = f"forms/{form.replace('gitleaks-', 'samples-')}/{len(out):05d}/{name}"
        label = Label(path, first, last, cls, kind, "", family, form, designed, neg)
        out.append((path, "\n".join(lines) + "\n", [label]))

    for rep in range(reps):
        for form, render in DESIGNED.items():
            # forms that fit few families (SQL, .pgpass, .npmrc) take more passes, up to MIN_CASES
            count = passes = 0
            while passes == 0 or (count < MIN_CASES and passes < 12):
                for i, fam in enumerate(FAMILIES):
                    case = render(g, fam, fam.make(g))
                    if case is None:
                        continue
                    count += 1
                    add(form, fam.name, True, case, "leak", fam.kind)
                    # in a credential slot any value is a credential, and a password has no format to be off
                    slot = fam.password_like or form in PASSWORD_FORMS
                    negs = [n for n in NEG_KINDS if not slot or n not in ("identifier", "off-format")]
                    neg = negs[(rep * len(FAMILIES) + i + passes) % len(negs)]
                    ncase = render(g, fam, _negative(g, fam, neg))
                    if ncase is not None:
                        add(form, fam.name, True, ncase, "negative", "negative", neg)
                passes += 1
        for positive, negative in zip(doc_layouts(g, False), doc_layouts(g, True), strict=True):
            form, family, name, lines, first, last = positive
            add(form, family, False, (name, lines, first, last), "leak", "doc-layout")
            form, family, name, lines, first, last = negative
            add(form, family, False, (name, lines, first, last), "negative", "negative", "placeholder")
        for j, layout in enumerate(GITLEAKS_LAYOUTS):
            fam = FAMILY[GITLEAKS_FAMILIES[(rep * len(GITLEAKS_LAYOUTS) + j) % len(GITLEAKS_FAMILIES)]]
            form = f"gitleaks-{layout}"
            secret = fam.make(g)[-1][1]
            add(form, fam.name, False, gitleaks_layout(layout, fam.name, secret), "leak", fam.kind)
            neg = ["doc-example", "placeholder", "off-format"][(rep + j) % 3]
            nvalue = _negative(g, fam, neg)[-1][1]
            add(form, fam.name, False, gitleaks_layout(layout, fam.name, nvalue), "negative", "negative", neg)
    return out
