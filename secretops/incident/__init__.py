"""Incidents: from leaked findings to dead credentials, with a report (`compromised --from-scan`)."""
