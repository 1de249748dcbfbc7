# The agenda's cache key (issue 7): a counter per rep, bumped by triggers on every table whose rows
# change a rep's agenda (pipeline.selectors.agenda: customers, follow-ups, profiles, visits, care
# tasks, release proposals) and a global counter for the staff's role / team / region (the care
# list's scope). Triggers, not service hooks: update(), bulk jobs, the importer, the admin and raw
# SQL bypass Python. A SQLite table rebuild drops a table's triggers: a later migration that
# rebuilds one of these tables must run TRIGGERS_UP again (tests/perf/test_agenda_cache.py checks
# they are all there).

from django.db import migrations, models

T = "pipeline_agendaversion"
# Customer columns the agenda shows or filters on (items, balance, names on visits / care / proposals).
CUSTOMER_COLS = [
    "name",
    "phone",
    "owner_id",
    "stage",
    "grade",
    "next_due_on",
    "last_contact_at",
    "held_since",
    "recycle_locked",
    "deleted_at",
]
USER_COLS = ["role", "team_id", "region_id", "is_active", "is_superuser"]


def _related(row: str) -> str:
    # Reps who see this customer's name on their agenda without owning it: open visits, open care.
    return (
        f"SELECT rep_id FROM pipeline_visitplan WHERE customer_id = {row}.id AND status = 'planned'"
        f" UNION ALL SELECT rep_id FROM aftercare_caretask WHERE customer_id = {row}.id AND done_at IS NULL"
    )


def _owners_of(ids: str) -> str:
    return f"SELECT owner_id FROM customers_customer WHERE id IN ({ids})"


# A bump moves the counter to the current time in microseconds (or one past it when that is not
# later): strictly increasing, and (unless the clock goes back) a counter never takes a value it had
# before even when its row is recreated or restored (a restored backup, a flushed test database, a user id reused by SQLite), so a cached
# body can never be served for other data under a recycled key.
NOW_US = {
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    "postgresql": "(extract(epoch from clock_timestamp()) * 1000000)::bigint",
}
MAX = {"sqlite": "MAX", "postgresql": "GREATEST"}


def _bump(where: str, vendor: str) -> str:
    return f"UPDATE {T} SET version = {MAX[vendor]}(version + 1, {NOW_US[vendor]}) WHERE {where}"


def _upsert_bump(rep: str, vendor: str) -> str:
    # Row 0 (and a new user's row) may be missing: flush in tests, a user id reused by SQLite.
    insert = f"INSERT INTO {T} (rep_id, version) VALUES ({rep}, {NOW_US[vendor]}) ON CONFLICT (rep_id) DO NOTHING"
    return f"{insert}; {_bump(f'rep_id = {rep}', vendor)}"


def _changed(cols: list[str], vendor: str) -> str:
    op = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in cols)


def specs(vendor: str) -> list[tuple[str, str, str, str | None, str]]:
    """(name, table, event, WHEN condition, body) of every trigger."""

    def bump(where: str) -> str:
        return _bump(where, vendor)

    def upsert(rep: str) -> str:
        return _upsert_bump(rep, vendor)

    out = [
        (
            "agv_customer_ins",
            "customers_customer",
            "INSERT",
            "NEW.owner_id IS NOT NULL",
            bump("rep_id = NEW.owner_id"),
        ),
        (
            "agv_customer_upd",
            "customers_customer",
            "UPDATE OF " + ", ".join(CUSTOMER_COLS),
            _changed(CUSTOMER_COLS, vendor),
            bump(f"rep_id IN (OLD.owner_id, NEW.owner_id) OR rep_id IN ({_related('NEW')})"),
        ),
        (
            "agv_customer_del",
            "customers_customer",
            "DELETE",
            None,
            bump(f"rep_id = OLD.owner_id OR rep_id IN ({_related('OLD')})"),
        ),
    ]
    # Rows hanging off a customer, seen by its owner: the last attempt, the first-contact deadline.
    for name, table, cols in (
        ("followup", "pipeline_followup", ["at", "customer_id"]),
        ("profile", "pipeline_customerprofile", ["first_contact_due_at", "customer_id"]),
    ):
        out += [
            (f"agv_{name}_ins", table, "INSERT", None, bump(f"rep_id IN ({_owners_of('NEW.customer_id')})")),
            (
                f"agv_{name}_upd",
                table,
                "UPDATE OF " + ", ".join(cols),
                _changed(cols, vendor),
                bump(f"rep_id IN ({_owners_of('OLD.customer_id, NEW.customer_id')})"),
            ),
            (f"agv_{name}_del", table, "DELETE", None, bump(f"rep_id IN ({_owners_of('OLD.customer_id')})")),
        ]
    # Rows with their own rep: any change of them shows.
    for name, table, rep in (
        ("visit", "pipeline_visitplan", "rep_id"),
        ("care", "aftercare_caretask", "rep_id"),
        ("proposal", "pipeline_releaseproposal", "owner_id"),
    ):
        out += [
            (f"agv_{name}_ins", table, "INSERT", None, bump(f"rep_id = NEW.{rep}")),
            (f"agv_{name}_upd", table, "UPDATE", None, bump(f"rep_id IN (OLD.{rep}, NEW.{rep})")),
            (f"agv_{name}_del", table, "DELETE", None, bump(f"rep_id = OLD.{rep}")),
        ]
    out += [
        # A new user starts a counter (bumped if SQLite reuses a deleted user's id).
        ("agv_user_ins", "accounts_user", "INSERT", None, upsert("NEW.id")),
        (
            "agv_user_upd",
            "accounts_user",
            "UPDATE OF " + ", ".join(USER_COLS),
            _changed(USER_COLS, vendor),
            upsert("0"),
        ),
        ("agv_team_upd", "accounts_team", "UPDATE OF region_id", _changed(["region_id"], vendor), upsert("0")),
    ]
    return out


TRIGGER_NAMES = [s[0] for s in specs("sqlite")]


def triggers_up(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cur:
        for name, table, event, when, body in specs(vendor):
            if vendor == "postgresql":
                cur.execute(
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                    f" BEGIN {body}; RETURN NULL; END $$"
                )
                cond = f" WHEN ({when})" if when else ""
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cur.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{cond} EXECUTE FUNCTION {name}()"
                )
            else:
                cond = f" WHEN {when}" if when else ""
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
                cur.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{cond} BEGIN {body}; END")


def triggers_down(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cur:
        for name, table, *_ in specs(vendor):
            if vendor == "postgresql":
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cur.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")


def start_counters(schema_editor) -> None:
    """A counter for every user (and the global one) that has none yet."""
    now = NOW_US[schema_editor.connection.vendor]
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            # WHERE true: SQLite's upsert after a SELECT needs it (else ON reads as a join's).
            f"INSERT INTO {T} (rep_id, version) SELECT rep, {now} FROM"
            f" (SELECT id AS rep FROM accounts_user UNION ALL SELECT 0) AS u WHERE true"
            " ON CONFLICT (rep_id) DO NOTHING"
        )


def up(apps, schema_editor) -> None:
    start_counters(schema_editor)
    triggers_up(schema_editor)


def down(apps, schema_editor) -> None:
    triggers_down(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("aftercare", "0002_care"),
        ("customers", "0002_search"),
        ("pipeline", "0004_review_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgendaVersion",
            fields=[
                ("rep_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(up, down),
    ]
