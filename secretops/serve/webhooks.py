"""The webhooks' checks and parsers: signatures, bearer tokens, replays, payloads.

- GitHub signs each delivery with the webhook secret: `X-Hub-Signature-256: sha256=<hex>` is the
  HMAC-SHA256 of the raw body (GitHub docs, "Validating webhook deliveries"). It is checked, in
  constant time, before the body is parsed.
- `X-GitHub-Delivery` is a GUID per delivery; a redelivery of the same event carries the same
  one. `DeliveryLog` remembers the ids seen: the newest `size` in memory, mirrored to a 0600
  file under the state folder so a restart does not forget them. The state seam has no place
  for them yet, so replicas do not share this memory (docs/service.md says what that means).
- `secret_scanning_alert` payloads: `action`, `alert.number`, `alert.secret_type`,
  `alert.secret` (usually absent from webhooks; the REST API's "Get a secret scanning alert"
  returns it), `repository.full_name`.
- `/hooks/findings` takes a `secretops scan --format json` report, read by the same loader as
  `compromised --from-scan` (`secretops.incident.findings.load_report`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from secretops.errors import ConfigError
from secretops.fileio import write_private
from secretops.incident.findings import LeakedFinding, load_report
from secretops.serve.interface import GitHubAlert
from secretops.values import SecretValue

__all__ = [
    "ACTED_ON_ACTIONS",
    "GITHUB_API",
    "BadPayload",
    "DeliveryLog",
    "bearer_ok",
    "fetch_alert_secret",
    "parse_findings_report",
    "parse_github_alert",
    "verify_github_signature",
]

log = logging.getLogger(__name__)

#: Where alert values are fetched from: nowhere else, whatever the payload says.
GITHUB_API = "https://api.github.com"

#: `secret_scanning_alert` actions that start the on-compromise flow.
ACTED_ON_ACTIONS = frozenset({"created", "reopened"})

_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,100}$")


class BadPayload(ValueError):
    """A request body or header that is not what the hook takes (the response is 400; the message is safe)."""


def verify_github_signature(secret: SecretValue, body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=` + the HMAC-SHA256 of `body` with `secret` (constant-time compare)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace"))


def bearer_ok(token: SecretValue, header: str | None) -> bool:
    """True when `header` is `Bearer <token>` (constant-time compare of the token)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(token.reveal().encode(), given.strip().encode("utf-8", "replace"))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadPayload("the body is not JSON") from None


def parse_github_alert(body: bytes, delivery: str) -> tuple[str, GitHubAlert | None]:
    """`(action, alert)` of a `secret_scanning_alert` payload (`alert` None for an action not acted on)."""
    doc = _json(body)
    if not isinstance(doc, dict):
        raise BadPayload("the payload is not a JSON object")
    action = doc.get("action")
    alert = doc.get("alert")
    repository = doc.get("repository")
    if not isinstance(action, str) or not isinstance(alert, dict) or not isinstance(repository, dict):
        raise BadPayload("a secret_scanning_alert payload needs action, alert and repository")
    if action not in ACTED_ON_ACTIONS:
        return action, None
    number = alert.get("number")
    secret_type = alert.get("secret_type")
    full_name = repository.get("full_name")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise BadPayload("alert.number must be a positive integer")
    if not isinstance(secret_type, str) or not secret_type or len(secret_type) > 200:
        raise BadPayload("alert.secret_type must be a string")
    if not isinstance(full_name, str) or not _REPO.match(full_name):
        raise BadPayload("repository.full_name must be owner/name")
    raw = alert.get("secret")
    value = SecretValue(raw) if isinstance(raw, str) and raw else None
    return action, GitHubAlert(number, secret_type, full_name, delivery, value)


def parse_findings_report(body: bytes) -> list[LeakedFinding]:
    """The leak findings of a secretops JSON report, by `compromised --from-scan`'s own loader."""
    doc = _json(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise BadPayload("not a secretops JSON scan report (no findings list)")
    # load_report reads a file: hand it one in a private folder (a report holds no values).
    with tempfile.TemporaryDirectory(prefix="secretops-serve-") as folder:
        path = Path(folder) / "report.json"
        write_private(path, body)
        try:
            return load_report(path)
        except ConfigError as exc:
            raise BadPayload(exc.message.replace(str(path), "the report")) from None


def fetch_alert_secret(client: httpx.Client, token: SecretValue, alert: GitHubAlert) -> SecretValue | None:
    """The alert's value from GitHub's REST API (`secret`), or None when it cannot be had.

    `GET /repos/{owner}/{repo}/secret-scanning/alerts/{number}`, only ever at `GITHUB_API`; the
    token needs `secret_scanning_alerts: read` (fine-grained) or `security_events`/`repo`.
    """
    owner, _, repo = alert.repository.partition("/")
    url = f"{GITHUB_API}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/secret-scanning/alerts/{alert.number}"
    headers = {
        "Authorization": f"Bearer {token.reveal()}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    try:
        response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("github: fetching alert %d of %s failed (%s)", alert.number, alert.repository, type(exc).__name__)
        return None
    if response.status_code != 200:
        log.warning("github: alert %d of %s: HTTP %d", alert.number, alert.repository, response.status_code)
        return None
    try:
        doc = response.json()
    except ValueError:
        return None
    raw = doc.get("secret") if isinstance(doc, dict) else None
    return SecretValue(raw) if isinstance(raw, str) and raw else None


class DeliveryLog:
    """Delivery ids already handled: the newest `size` in memory, mirrored to a 0600 file.

    `seen(id)` is True for an id met before; `remember(id)` records one. Ids are GUIDs, not
    secrets; the file is rewritten atomically when it has grown to twice `size` lines.
    """

    def __init__(self, path: Path | None, size: int = 10_000) -> None:
        self.path = path
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._lines = 0
        if path is not None and path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if _DELIVERY.match(line):
                    self._ids[line] = None
                    self._lines += 1
            while len(self._ids) > size:
                self._ids.popitem(last=False)

    @staticmethod
    def valid(delivery: str | None) -> bool:
        """Whether `delivery` looks like a delivery id (GitHub sends a GUID)."""
        return bool(delivery) and bool(_DELIVERY.match(delivery or ""))

    def seen(self, delivery: str) -> bool:
        """True when `delivery` was handled before."""
        with self._lock:
            return delivery in self._ids

    def remember(self, delivery: str) -> bool:
        """Record `delivery`; False when it was already known (a replay)."""
        with self._lock:
            if delivery in self._ids:
                return False
            self._ids[delivery] = None
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)
            if self.path is not None:
                self._persist(delivery)
            return True

    def _persist(self, delivery: str) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lines >= 2 * self.size:
            write_private(self.path, "".join(f"{d}\n" for d in self._ids))
            self._lines = len(self._ids)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{delivery}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
