# The agenda's cache counters (issue 7) lived here with 21 triggers across four apps' tables; issue 13
# removed them (the uncached agenda meets its target). The table is kept in this migration's state so
# installed databases and fresh ones reach the same history; 0006 drops the triggers an older copy of
# this migration created, and the table.

from django.db import migrations, models


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
    ]
