"""Reject UPDATE, DELETE and TRUNCATE on audit tables in PostgreSQL; SQLite gets no trigger.

DELETE passes only in a transaction that ran ``SET LOCAL bookbag.audit_prune
= 'on'``, which ``audit_prune`` does. TRUNCATE passes only with
``bookbag.audit_truncate = 'on'``, which the test settings set so that
pytest-django can empty the tables between transactional tests.
"""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditeventqueue", "audit_auditcheckpoint")

FUNCTIONS = """
CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('bookbag.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit history is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Events are deleted only by manage.py prune_audit.';
END;
$$;
CREATE FUNCTION audit_reject_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bookbag.audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit history is append-only: TRUNCATE on % is not allowed', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

TRIGGERS = "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_truncate();
"""
    for table in TABLES
)

DROP = "".join(
    f"DROP TRIGGER {table}_append_only ON {table}; DROP TRIGGER {table}_no_truncate ON {table};\n"
    for table in TABLES
) + "DROP FUNCTION audit_reject_change(); DROP FUNCTION audit_reject_truncate();"


class PostgresRunSQL(migrations.RunSQL):
    """RunSQL that does nothing on databases other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [("audit", "0003_hash_existing_events")]

    operations = [PostgresRunSQL(sql=FUNCTIONS + TRIGGERS, reverse_sql=DROP)]
