"""Reading AI replies from files and API payloads into validated item records.

``reading`` parses JSON and JSON Lines, ``formats`` turns each dataset shape
into an ``ItemRecord``, ``importing`` feeds the records to the
``items_ingest`` service in batches, and ``report`` prints what happened.
"""
