# Drops the agenda cache's 21 counter triggers (created by an earlier 0005) and their table
# (issue 13): the uncached agenda meets its target. IF EXISTS, so a database that never had them
# (a fresh install) passes through. Reversing leaves the agenda uncached: the table comes back
# empty, and code of that time caches nothing for a rep without a counter row.

from django.db import migrations

_TABLES = {
    "customer": "customers_customer",
    "followup": "pipeline_followup",
    "profile": "pipeline_customerprofile",
    "visit": "pipeline_visitplan",
    "care": "aftercare_caretask",
    "proposal": "pipeline_releaseproposal",
}
TRIGGERS = [(f"agv_{kind}_{ev}", table) for kind, table in _TABLES.items() for ev in ("ins", "upd", "del")] + [
    ("agv_user_ins", "accounts_user"),
    ("agv_user_upd", "accounts_user"),
    ("agv_team_upd", "accounts_team"),
]


def drop_triggers(apps, schema_editor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cur:
        for name, table in TRIGGERS:
            if postgres:
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cur.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0005_agenda_version")]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="AgendaVersion"),
    ]
