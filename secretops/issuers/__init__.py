"""Issuers: where a credential is minted, checked and revoked."""
