# Issue 17: keep only the indexes a query needs. Two single-column foreign-key indexes are the
# first column of another index, which serves every query they could (filters, joins, ON DELETE
# lookups on both databases, SQLite's foreign-key checks):
#   customers_customer.owner_id        -> customer_owner_stage (owner_id, stage), also customer_owner_due
#   customers_customerchange.customer_id -> custchange_customer_at (customer_id, at DESC)
# Each costs every insert (an import writes one row into each table per customer). The other
# indexes stay: each is the only index for some query (search prefixes, lists, agenda, dedupe).
# Dropped by hand: AlterField would make SQLite copy the whole table (and lose the FTS triggers).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_FIELDS = [("Customer", "owner"), ("CustomerChange", "customer")]


def _single_column_indexes(schema_editor, model, column: str) -> list[str]:
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        constraints = conn.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]
    ]


def drop_indexes(apps, schema_editor):
    for model_name, field_name in _FIELDS:
        model = apps.get_model("customers", model_name)
        column = model._meta.get_field(field_name).column
        for name in _single_column_indexes(schema_editor, model, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor):
    for model_name, field_name in _FIELDS:
        model = apps.get_model("customers", model_name)
        field = model._meta.get_field(field_name)
        if not _single_column_indexes(schema_editor, model, field.column):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_fts_pause_for_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="Empty means the customer is in the public pool.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="customers",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
                migrations.AlterField(
                    model_name="customerchange",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        )
    ]
