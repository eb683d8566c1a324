import django.db.models.deletion
from django.db import migrations, models


def count_the_log(apps, schema_editor) -> None:
    """The popularity of what the log holds already; from now on the writers keep it."""
    from events.popularity import rebuild_popularity

    rebuild_popularity()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_interaction_log"),
        ("shop", "0003_product_details"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductPopularity",
            fields=[
                (
                    "product",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="shop.product",
                    ),
                ),
                ("score", models.FloatField()),
                ("last_event_at", models.DateTimeField()),
            ],
            options={
                "verbose_name_plural": "product popularity",
                "indexes": [models.Index(fields=["score", "product"], name="events_popularity_rank")],
            },
        ),
        migrations.RunPython(count_the_log, migrations.RunPython.noop),
    ]
