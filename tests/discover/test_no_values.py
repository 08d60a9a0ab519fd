"""Values never reach the draft or the report, whatever line they sit on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from secretops.cli.app import run

# Built at run time so this file holds no token-shaped literal.
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "Xq9Z"
PG = "Zq7" + "mW2vL9xPk4tRj8s"

GUIDE = f"""# Shop - Operations Guide

## Stripe Integration
Our Stripe key is {STRIPE} (rotate it in the dashboard).

## Staging Database
```bash
PGPASSWORD={PG} psql -h shop-db-do-user-1-0.b.db.ondigitalocean.com -p 25060 -U doadmin -d shop
psql postgresql://doadmin:{PG}@shop-db-do-user-1-0.b.db.ondigitalocean.com:25060/shop
curl https://admin:{PG}@shop.example.org/health
doctl apps logs 2119eba2-07b6-405f-a962-d40dd6956137 worker
```

## Environment Variables
| Variable | Type |
|---|---|
| DATABASE_URL | Secret |
| STRIPE_SECRET_KEY | Secret |
| ESC_\x1b[2J_TOKEN | Secret |
"""


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    path = tmp_path / "ops.md"
    path.write_text(GUIDE, encoding="utf-8")
    return path


def test_no_value_in_draft_or_report(guide: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "draft.yaml"
    report = tmp_path / "report.json"
    code = run(["discover", str(guide), "-o", str(out), "--report", str(report), "--format", "json"])
    assert code == 1  # the live-looking key and password are findings
    text = out.read_text(encoding="utf-8")
    body = report.read_text(encoding="utf-8") + capsys.readouterr().err
    for value in (STRIPE, PG):
        assert value not in text and value not in body
    data = yaml.safe_load(text)  # still valid YAML, whatever the guide held
    doc = json.loads(report.read_text(encoding="utf-8"))
    owners = {f["secret"] for f in doc["findings"]}
    assert "shop/stripe-secret-key" in owners and "shop/database" in owners
    assert all(f["fingerprint"].startswith("hmac-sha256:") for f in doc["findings"])
    health = [c.get("health") for s in data["secrets"] for c in s["consumers"] if c.get("health")]
    assert all("@" not in h["url"] for h in health)  # a URL with userinfo is never a health check


def test_control_characters_stay_escaped(guide: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    run(["discover", str(guide), "-o", str(out)])
    assert "\x1b" not in out.read_text(encoding="utf-8")
