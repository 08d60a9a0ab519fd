"""Schema 1: runs, the append-only step journal, leases, and the hash-chained audit log.

`secretops_steps` and `secretops_audit` refuse UPDATE, DELETE and TRUNCATE with triggers, which
bind the tables' owner too (a superuser can still bypass them, e.g. with
`session_replication_role = replica`; the audit hash chain then shows what changed). The audit
head (`secretops_audit_head`, one row) records the last `seq` and line hash, as `audit.head`
does for the local log, so rows cut off the end are detected; it may only move forward one
entry at a time.
"""

from __future__ import annotations

SQL = """
CREATE TABLE secretops_runs (
    run_id      text PRIMARY KEY,
    secret      text NOT NULL,
    started_at  timestamptz NOT NULL,
    runner      text NOT NULL
);
CREATE INDEX secretops_runs_secret ON secretops_runs (secret);

CREATE TABLE secretops_steps (
    id          bigserial PRIMARY KEY,
    run_id      text NOT NULL REFERENCES secretops_runs (run_id),
    ts          timestamptz NOT NULL,
    secret      text NOT NULL,
    step        text NOT NULL,
    status      text NOT NULL,
    target      text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX secretops_steps_run ON secretops_steps (run_id, id);

CREATE TABLE secretops_leases (
    secret        text PRIMARY KEY,
    holder        text NOT NULL,
    run_id        text,
    acquired_at   timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL
);

CREATE TABLE secretops_audit (
    seq     bigint PRIMARY KEY CHECK (seq > 0),
    ts      timestamptz NOT NULL,
    action  text NOT NULL,
    "user"  text NOT NULL,
    secret  text,
    detail  jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev    text NOT NULL,
    hash    text NOT NULL
);

CREATE TABLE secretops_audit_head (
    id      integer PRIMARY KEY CHECK (id = 1),
    seq     bigint NOT NULL,
    sha256  text NOT NULL
);

CREATE FUNCTION secretops_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'secretops: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER secretops_steps_append_only BEFORE UPDATE OR DELETE ON secretops_steps
    FOR EACH ROW EXECUTE FUNCTION secretops_refuse_change();
CREATE TRIGGER secretops_steps_no_truncate BEFORE TRUNCATE ON secretops_steps
    FOR EACH STATEMENT EXECUTE FUNCTION secretops_refuse_change();
CREATE TRIGGER secretops_audit_append_only BEFORE UPDATE OR DELETE ON secretops_audit
    FOR EACH ROW EXECUTE FUNCTION secretops_refuse_change();
CREATE TRIGGER secretops_audit_no_truncate BEFORE TRUNCATE ON secretops_audit
    FOR EACH STATEMENT EXECUTE FUNCTION secretops_refuse_change();

CREATE FUNCTION secretops_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'secretops: the audit head only moves forward one entry at a time (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER secretops_audit_head_forward BEFORE UPDATE OR DELETE ON secretops_audit_head
    FOR EACH ROW EXECUTE FUNCTION secretops_head_forward();
CREATE TRIGGER secretops_audit_head_no_truncate BEFORE TRUNCATE ON secretops_audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION secretops_refuse_change();
"""
