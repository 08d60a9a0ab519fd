"""AWS IAM access keys of one IAM user, rotated by `overlap` (the user's second key slot), via boto3.

`apply` mints a key with `CreateAccessKey` (the issuer generates the value: the engine must
store it at once). A user holds at most two keys: an inactive second key is deleted first; two
active keys are refused, since one of them may be in use somewhere we do not know. `revoke` sets
the old key `Inactive` (reversible), or deletes it with `delete_after_revoke`; an inactive key
is deleted by the next `apply`. `reconcile` deletes keys minted by a run that crashed before it
could store them.

Admin credentials come from the boto3 default chain (env vars in the mapping given, then
profile, instance role...), with the spec's `profile`, `region` and `endpoint_url` (moto, VPC
endpoints). The admin principal needs `iam:ListAccessKeys`, `iam:CreateAccessKey`,
`iam:UpdateAccessKey` and `iam:DeleteAccessKey` on the user.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from secretops.errors import IssuerError
from secretops.inventory.models import AwsIamIssuerSpec, SecretSpec, Strategy
from secretops.issuers._common import require_strategy, single_account
from secretops.issuers.interface import (
    Credential,
    Issuer,
    IssuerAuthError,
    IssuerUnavailableError,
    PlanStep,
)
from secretops.values import SecretValue

__all__ = ["AwsIamIssuer"]

log = logging.getLogger(__name__)

_AUTH_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}
# Codes STS returns when the key presented by `check` is not (or no longer) valid.
_KEY_REFUSED = _AUTH_CODES - {"AccessDenied", "AccessDeniedException"}
_ENV_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class _NoBodies(logging.Filter):
    """Drops botocore's DEBUG records: `botocore.parsers` logs whole response bodies, and the body
    of `CreateAccessKey` holds the new secret key."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _silence_botocore_bodies() -> None:
    """Install `_NoBodies` on the botocore loggers that print bodies (once)."""
    for name in ("botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.auth"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoBodies) for f in logger.filters):
            logger.addFilter(_NoBodies())


# Installed on import as well as before our own clients run: any boto3 client in the process (a
# test harness's admin client included) would otherwise log CreateAccessKey bodies at DEBUG.
_silence_botocore_bodies()


class AwsIamIssuer(Issuer):
    """Access keys of the IAM user named by `secret.accounts[0]`.

    `check` calls STS `GetCallerIdentity` signed with the key, and (as admin) confirms with
    `ListAccessKeys` that the key exists and is `Active`. Against real AWS the STS call alone
    proves the secret half works. Against moto it proves little: moto's STS accepts any
    signature, so a wrong secret key is not detected there; the `ListAccessKeys` half is what
    tests can rely on (a deleted or inactive key is refused).
    """

    kind: ClassVar[str] = "aws-iam"
    strategies: ClassVar[frozenset[Strategy]] = frozenset({Strategy.OVERLAP})
    generates_value: ClassVar[bool] = True

    def __init__(self, spec: AwsIamIssuerSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = env
        self._iam: Any = None

    # ------------------------------------------------------------ clients and errors

    def _config(self) -> Any:
        from botocore.config import Config

        _silence_botocore_bodies()
        return Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})

    def _session(self) -> Any:
        import boto3
        import botocore.exceptions

        key_id, secret_key, token = (self._env.get(name) or None for name in _ENV_CREDENTIALS)
        try:
            return boto3.Session(
                aws_access_key_id=key_id,
                aws_secret_access_key=secret_key,
                aws_session_token=token,
                profile_name=self.spec.profile,
                region_name=self.spec.region,
            )
        except botocore.exceptions.ProfileNotFound:
            raise IssuerError(
                f"aws-iam issuer: AWS profile {self.spec.profile!r} not found",
                hint="fix `profile` on the issuer or configure it in ~/.aws/config",
            ) from None

    def _client(self) -> Any:
        if self._iam is None:
            self._iam = self._session().client("iam", endpoint_url=self.spec.endpoint_url, config=self._config())
        return self._iam

    def _call(self, secret: SecretSpec, action: str, method: str, **kwargs: Any) -> Any:
        """Call one IAM API; translate botocore errors (never echoing a secret key)."""
        import botocore.exceptions

        where = self.spec.endpoint_url or f"IAM ({self.spec.region})"
        try:
            return getattr(self._client(), method)(**kwargs)
        except botocore.exceptions.NoCredentialsError:
            raise IssuerAuthError(
                f"{secret.name}: no AWS credentials to {action}",
                hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `profile` on the issuer",
            ) from None
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            if code in _AUTH_CODES:
                raise IssuerAuthError(
                    f"{secret.name}: AWS refused to {action} ({code})",
                    hint="check the admin credentials and that they allow iam:*AccessKey* on the user",
                ) from None
            if code == "NoSuchEntity":
                raise IssuerError(
                    f"{secret.name}: cannot {action}: no such IAM user or key ({code})",
                    hint="check accounts: [<IAM user name>] on the secret",
                ) from None
            raise IssuerError(f"{secret.name}: AWS refused to {action} ({code})") from None
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectionClosedError,
        ):
            raise IssuerUnavailableError(
                f"{secret.name}: cannot reach {where} to {action}",
                hint="check endpoint_url, region and network access",
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise IssuerError(f"{secret.name}: cannot {action} ({type(exc).__name__})") from None

    def _keys(self, secret: SecretSpec, user: str) -> list[dict[str, Any]]:
        out = self._call(secret, f"list the access keys of {user}", "list_access_keys", UserName=user)
        return list(out.get("AccessKeyMetadata", []))

    def close(self) -> None:
        """Drop the IAM client."""
        if self._iam is not None:
            self._iam.close()
            self._iam = None

    # ------------------------------------------------------------ Issuer API

    def _user(self, secret: SecretSpec, credential: Credential | None) -> str:
        if not secret.accounts and credential is not None and credential.attributes.get("user"):
            return credential.attributes["user"]
        return single_account(self.kind, secret, credential, "IAM user")

    def plan(self, secret: SecretSpec, current: Credential | None) -> list[PlanStep]:
        """ListAccessKeys, maybe DeleteAccessKey of an inactive one, CreateAccessKey, checks, deactivation."""
        require_strategy(self.kind, secret, self.strategies)
        actor = f"issuer:{self.kind}"
        user = self._user(secret, current)
        old = current.attributes.get("access_key_id", "?") if current is not None else None
        steps = [
            PlanStep(actor, f"ListAccessKeys {user}", "a user holds at most two keys"),
            PlanStep(actor, f"DeleteAccessKey (an inactive key of {user}, if two exist)", "frees the second slot"),
            PlanStep(actor, f"CreateAccessKey {user}", "AWS mints the value; it is stored at once"),
            PlanStep(actor, "check: sts:GetCallerIdentity with the new key; key Active", "verify the new value"),
        ]
        if old is not None:
            action = "DeleteAccessKey" if self.spec.delete_after_revoke else "UpdateAccessKey Status=Inactive"
            steps.append(PlanStep(actor, f"{action} {old}", "after the grace period"))
            steps.append(PlanStep(actor, f"check: {old} is no longer active", "prove the old key dead"))
        return steps

    def apply(self, secret: SecretSpec, current: Credential | None, proposed: SecretValue | None) -> Credential:
        """Mint a new access key for the user (`proposed` is ignored: AWS makes the value).

        Deletes an inactive key first when the user already has two; refuses when both are active.
        """
        require_strategy(self.kind, secret, self.strategies)
        user = self._user(secret, current)
        current_id = current.attributes.get("access_key_id") if current is not None else None
        keys = self._keys(secret, user)
        if len(keys) >= 2:
            inactive = [k for k in keys if k.get("Status") != "Active" and k["AccessKeyId"] != current_id]
            if not inactive:
                others = [k["AccessKeyId"] for k in keys if k["AccessKeyId"] != current_id]
                if current_id in {k["AccessKeyId"] for k in keys}:
                    reason = f"besides the current key it already has an active key {', '.join(others)}"
                    hint = "if that key is a leftover of an interrupted run, reconcile removes it; else deactivate it"
                else:
                    reason = f"both its keys ({', '.join(others)}) are active and neither is the current one"
                    hint = "deactivate the key that is not in use (aws iam update-access-key --status Inactive)"
                raise IssuerError(f"{secret.name}: cannot mint a key for IAM user {user}: {reason}", hint=hint)
            victim = inactive[0]["AccessKeyId"]
            self._call(secret, f"delete inactive key {victim}", "delete_access_key", UserName=user, AccessKeyId=victim)
            log.info("aws-iam: deleted inactive access key %s of %s to free a slot", victim, user)
        out = self._call(secret, f"create an access key for {user}", "create_access_key", UserName=user)
        key = out["AccessKey"]
        log.info("aws-iam: created access key %s for %s (secret not logged)", key["AccessKeyId"], user)
        return Credential(SecretValue(key["SecretAccessKey"]), {"access_key_id": key["AccessKeyId"], "user": user})

    def check(self, secret: SecretSpec, credential: Credential) -> bool:
        """`GetCallerIdentity` signed with the key succeeds, and the key is listed `Active` for the user."""
        import boto3
        import botocore.exceptions

        key_id = credential.attributes.get("access_key_id")
        if not key_id:
            raise IssuerError(f"{secret.name}: an aws-iam credential needs an access_key_id attribute")
        user = self._user(secret, credential)
        sts = boto3.Session(
            aws_access_key_id=key_id, aws_secret_access_key=credential.value.reveal(), region_name=self.spec.region
        ).client("sts", endpoint_url=self.spec.endpoint_url, config=self._config())
        try:
            sts.get_caller_identity()
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _KEY_REFUSED:
                log.info("aws-iam: STS refused access key %s (%s)", key_id, code)
                return False
            raise IssuerError(f"{secret.name}: STS GetCallerIdentity failed ({code})") from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError):
            raise IssuerUnavailableError(
                f"{secret.name}: cannot reach STS to check {key_id}", hint="check endpoint_url and network access"
            ) from None
        finally:
            sts.close()
        status = {k["AccessKeyId"]: k.get("Status") for k in self._keys(secret, user)}
        if status.get(key_id) != "Active":
            log.info("aws-iam: access key %s of %s is %s", key_id, user, status.get(key_id, "absent"))
            return False
        return True

    def revoke(self, secret: SecretSpec, old: Credential, keep: Credential) -> None:
        """Set the old key `Inactive` (or delete it with `delete_after_revoke`). Idempotent.

        Refuses when `keep` is the same key, or is not an active key of the user.
        """
        require_strategy(self.kind, secret, self.strategies)
        user = self._user(secret, keep)
        old_id, keep_id = old.attributes.get("access_key_id"), keep.attributes.get("access_key_id")
        if not old_id or old_id == keep_id:
            raise IssuerError(f"{secret.name}: refusing to revoke: the old and new access keys are the same")
        status = {k["AccessKeyId"]: k.get("Status") for k in self._keys(secret, user)}
        if status.get(keep_id or "") != "Active":
            raise IssuerError(
                f"{secret.name}: refusing to revoke {old_id}: the key to keep ({keep_id}) "
                f"is not an active key of {user}",
                hint="check the stored credential; the user would be left without a working key",
            )
        if old_id not in status:
            log.info("aws-iam: access key %s of %s is already gone", old_id, user)
            return
        if self.spec.delete_after_revoke:
            self._call(secret, f"delete key {old_id}", "delete_access_key", UserName=user, AccessKeyId=old_id)
            log.info("aws-iam: deleted access key %s of %s", old_id, user)
        elif status[old_id] == "Active":
            self._call(
                secret,
                f"deactivate key {old_id}",
                "update_access_key",
                UserName=user,
                AccessKeyId=old_id,
                Status="Inactive",
            )
            log.info("aws-iam: deactivated access key %s of %s", old_id, user)

    def rollback(self, secret: SecretSpec, new: Credential, keep: Credential | None) -> None:
        """Delete the key `apply` minted (the run failed before promote; `keep` stays as it is)."""
        require_strategy(self.kind, secret, self.strategies)
        user = self._user(secret, new)
        new_id = new.attributes.get("access_key_id")
        if keep is not None and new_id == keep.attributes.get("access_key_id"):
            raise IssuerError(f"{secret.name}: refusing to roll back: the key to keep is the new one")
        if new_id in {k["AccessKeyId"] for k in self._keys(secret, user)}:
            self._call(secret, f"delete key {new_id}", "delete_access_key", UserName=user, AccessKeyId=new_id)
            log.info("aws-iam: rolled back: deleted access key %s of %s", new_id, user)

    def reconcile(self, secret: SecretSpec, known: Sequence[Credential]) -> list[str]:
        """Delete the user's keys that are not in `known` and were created after the oldest known key.

        Those are keys minted by a run that crashed before storing them. Keys older than every
        known key (e.g. the one in use when secretops adopted the user) are left alone, and with
        no known key present at AWS nothing is deleted.
        """
        require_strategy(self.kind, secret, self.strategies)
        user = self._user(secret, known[0] if known else None)
        known_ids = {c.attributes.get("access_key_id") for c in known}
        keys = self._keys(secret, user)
        known_dates: list[datetime] = [k["CreateDate"] for k in keys if k["AccessKeyId"] in known_ids]
        if not known_dates:
            log.info("aws-iam: no known key of %s exists at AWS; reconcile deletes nothing", user)
            return []
        oldest = min(known_dates)
        removed = []
        for key in keys:
            key_id = key["AccessKeyId"]
            if key_id in known_ids:
                continue
            if key["CreateDate"] < oldest:
                log.warning("aws-iam: unknown access key %s of %s predates the known keys; left alone", key_id, user)
                continue
            self._call(secret, f"delete leftover key {key_id}", "delete_access_key", UserName=user, AccessKeyId=key_id)
            removed.append(f"deleted access key {key_id} of IAM user {user} (not in the store)")
            log.info("aws-iam: reconcile deleted leftover access key %s of %s", key_id, user)
        return removed
