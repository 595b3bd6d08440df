"""Raw SQL that tampers with the audit table, as someone with database access could."""

from django.db import connection

TABLE = "audit_auditevent"


def tamper(sql: str, params: list) -> None:
    """Run ``sql`` on the event table, with the append-only trigger off on PostgreSQL.

    The test's transaction rolls back the tampering and the trigger change.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
