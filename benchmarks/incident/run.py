"""Incident benchmark: a leaked Neon-style DATABASE_URL, from `scan --verify` to proven dead.

Each round (default 5, at most 20) creates two login roles on a private scram-sha-256 cluster,
plants the first one's URL in `docs/guide.md` (committed to git), and has a `.env` and a fake
DigitalOcean app (app level + worker) consume it. Then, through the CLI in this process:
`scan --verify --verify-databases --format json`, `compromised --from-scan --report`, and the
same scan again. Times are wall clock of our own work (the cluster start is excluded).

Run from the repository root with the venv active: `python benchmarks/incident/run.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import psycopg
from psycopg import sql

from benchmarks.rotation._common import private_pg
from secretops.cli.app import run
from secretops.inventory.models import DigitalOceanTargetSpec, TargetSpec
from secretops.store import LocalStore
from secretops.store.interface import Label
from secretops.targets import Target
from secretops.targets import build_target as real_build_target
from secretops.targets.digitalocean import DigitalOceanTarget
from secretops.values import FingerprintKey, SecretValue
from tests.fakes.platforms.digitalocean import FakeDigitalOcean
from tests.incident.test_acceptance import _policy

LOCAL_KEY = "5c" * 32
FP_KEY = "ab" * 32


def _quiet(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(args)
    return code, out.getvalue()


def one_round(admin_dsn: str, port: int) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    role_a, role_b, password = f"bi_{tag}_a", f"bi_{tag}_b", "npg_" + secrets.token_hex(10)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role_a), sql.Literal(password)))
        admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role_b)))
    tmp = Path(tempfile.mkdtemp(prefix="secretops-bench-incident-"))
    old_cwd = Path.cwd()
    try:
        leaked = f"postgresql://{role_a}:{password}@127.0.0.1:{port}/postgres?sslmode=prefer"
        (tmp / "policies").mkdir()
        (tmp / "policies" / "shop.yaml").write_text(_policy(tmp, port, role_a, role_b))
        (tmp / "app").mkdir()
        (tmp / "app" / ".env").write_text(f"DATABASE_URL={leaked}\n")
        (tmp / "docs").mkdir()
        (tmp / "docs" / "guide.md").write_text(f"# Connect\n\n```\nDATABASE_URL={leaked}\n```\n")
        git = ["git", "-C", str(tmp), "-c", "user.name=b", "-c", "user.email=b@b"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "docs"], check=True)
        subprocess.run([*git, "commit", "-qm", "guide"], check=True)
        do = FakeDigitalOcean()
        do.add_app(
            "app-1",
            {
                "name": "shop",
                "envs": [{"key": "DATABASE_URL", "value": leaked, "type": "SECRET", "scope": "RUN_TIME"}],
                "services": [{"name": "web"}],
                "workers": [{"name": "worker", "envs": [{"key": "DATABASE_URL", "value": leaked, "type": "SECRET"}]}],
            },
        )

        def build_target(name: str, spec: TargetSpec, env: Any, *, base_dir: Path | None = None) -> Target:
            if isinstance(spec, DigitalOceanTargetSpec):
                client = httpx.Client(transport=httpx.MockTransport(do.handle))
                return DigitalOceanTarget(name, spec, SecretValue(do.token), client=client, sleep=lambda _s: None)
            return real_build_target(name, spec, env, base_dir=base_dir)

        import secretops.cli.rotate as cli_rotate

        cli_rotate.build_target = build_target  # type: ignore[assignment]
        os.chdir(tmp)
        os.environ.update(
            SECRETOPS_STATE_DIR=str(tmp / ".secretops"),
            SECRETOPS_POLICIES=str(tmp / "policies"),
            SECRETOPS_LOCAL_KEY=LOCAL_KEY,
            SECRETOPS_FINGERPRINT_KEY=FP_KEY,
            PG_ADMIN_DSN=admin_dsn,
        )
        store = LocalStore(
            tmp / ".secretops", bytes.fromhex(LOCAL_KEY), fingerprint_key=FingerprintKey(bytes.fromhex(FP_KEY))
        )
        store.put("shop/db", SecretValue(password), attributes={"username": role_a}, labels=frozenset({Label.CURRENT}))
        store.close()
        scan = ["scan", "--verify", "--verify-databases", "--format", "json", "--no-progress", "docs/guide.md"]
        t0 = time.perf_counter()
        _, out = _quiet(scan)
        t1 = time.perf_counter()
        (tmp / "report.json").write_text(out)
        before = [f["liveness"]["state"] for f in json.loads(out)["findings"]]
        code, _ = _quiet(["compromised", "--from-scan", "report.json", "--report", "incident.md", "--verify-databases"])
        t2 = time.perf_counter()
        _, out = _quiet(scan)
        t3 = time.perf_counter()
        after = [f["liveness"]["state"] for f in json.loads(out)["findings"]]
        audit_ok, _ = _quiet(["audit", "verify"])
        return {
            "scan_s": t1 - t0,
            "compromised_s": t2 - t1,
            "rescan_s": t3 - t2,
            "ok": code == 0 and before == ["live"] and after == ["dead"] and audit_ok == 0,
        }
    finally:
        os.chdir(old_cwd)
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            for role in (role_a, role_b):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = min(max(parser.parse_args().rounds, 1), 20)
    with private_pg() as pg:
        results = [one_round(pg.admin_dsn, pg.port) for _ in range(rounds)]
    print(f"{rounds} rounds, all live -> compromised -> dead: {all(r['ok'] for r in results)}")
    print("| step | median s | max s |")
    print("|---|---:|---:|")
    for key, label in (
        ("scan_s", "scan --verify (live)"),
        ("compromised_s", "compromised --from-scan"),
        ("rescan_s", "scan --verify (dead)"),
    ):
        vals = [r[key] for r in results]
        print(f"| {label} | {statistics.median(vals):.2f} | {max(vals):.2f} |")
    total = [r["scan_s"] + r["compromised_s"] + r["rescan_s"] for r in results]
    print(f"| total | {statistics.median(total):.2f} | {max(total):.2f} |")


if __name__ == "__main__":
    main()
