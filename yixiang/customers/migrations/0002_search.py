# Search at a million customers (issue 7): prefix indexes over live rows, a trigram index for
# substrings (FTS5 on SQLite, pg_trgm on PostgreSQL) and the list's ordering index.
# Everything is maintained by the database itself, so every writer (services, the importer's
# executemany / COPY, the benchmark generator) keeps it right without knowing about it.

from django.conf import settings
from django.db import migrations, models

FTS = "customers_customer_fts"
# Trigram table over the customer columns searched by substring; external content (no copy of
# the text), rowid = customer id.
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(phone_normalized, name, company_name,"
    " content='customers_customer', content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER customers_customer_fts_ai AFTER INSERT ON customers_customer BEGIN
  INSERT INTO {FTS}(rowid, phone_normalized, name, company_name)
  VALUES (new.id, new.phone_normalized, new.name, new.company_name);
END""",
    f"""CREATE TRIGGER customers_customer_fts_ad AFTER DELETE ON customers_customer BEGIN
  INSERT INTO {FTS}({FTS}, rowid, phone_normalized, name, company_name)
  VALUES ('delete', old.id, old.phone_normalized, old.name, old.company_name);
END""",
    f"""CREATE TRIGGER customers_customer_fts_au AFTER UPDATE OF phone_normalized, name, company_name
ON customers_customer BEGIN
  INSERT INTO {FTS}({FTS}, rowid, phone_normalized, name, company_name)
  VALUES ('delete', old.id, old.phone_normalized, old.name, old.company_name);
  INSERT INTO {FTS}(rowid, phone_normalized, name, company_name)
  VALUES (new.id, new.phone_normalized, new.name, new.company_name);
END""",
    # Backfill in one statement (set-based, inside SQLite).
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ad",
    "DROP TRIGGER IF EXISTS customers_customer_fts_au",
    f"DROP TABLE IF EXISTS {FTS}",
]
# pg_trgm is a trusted extension; GIN trigram indexes serve LIKE / ILIKE '%…%' for ≥ 3 characters.
PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_trgm_phone ON customers_customer"
    " USING gin (phone_normalized gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_trgm_name ON customers_customer USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_trgm_company ON customers_customer USING gin (company_name gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS customer_trgm_phone",
    "DROP INDEX IF EXISTS customer_trgm_name",
    "DROP INDEX IF EXISTS customer_trgm_company",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


def drop_key_indexes(apps, schema_editor):
    """Drop the old single-column indexes on the pinyin keys (the new composite indexes start with
    them). Done by hand: AlterField would make SQLite copy the whole table."""
    table = "customers_customer"
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        constraints = conn.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] in (
            ["name_pinyin"],
            ["name_initials"],
        ):
            schema_editor.execute(schema_editor._delete_index_sql(apps.get_model("customers", "Customer"), name))


def add_key_indexes(apps, schema_editor):
    model = apps.get_model("customers", "Customer")
    for field in ("name_pinyin", "name_initials"):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(field)]))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('customers', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='name_initials',
                    field=models.CharField(blank=True, editable=False, max_length=100),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='name_pinyin',
                    field=models.CharField(blank=True, editable=False, max_length=300),
                ),
            ],
            database_operations=[migrations.RunPython(drop_key_indexes, add_key_indexes)],
        ),
        migrations.AddIndex(
            model_name='contactperson',
            index=models.Index(fields=['name'], name='contact_name'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['-updated_at', '-id'], name='customer_live_recent'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['owner', '-updated_at', '-id'], name='customer_live_owner_recent'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['name_initials', 'owner', 'updated_at', 'deleted_at'], name='customer_live_initials'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['name_pinyin', 'owner', 'updated_at', 'deleted_at'], name='customer_live_pinyin'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['name', 'owner', 'updated_at', 'deleted_at'], name='customer_live_name'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['company_name', 'owner', 'updated_at', 'deleted_at'], name='customer_live_company'),
        ),
            migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}), _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN})
        ),
    ]
