import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="SitePage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "key",
                    models.CharField(
                        choices=[
                            ("imprint", "Imprint"),
                            ("privacy", "Privacy notice"),
                            ("front_intro", "Front page introduction"),
                        ],
                        max_length=20,
                        unique=True,
                        verbose_name="page",
                    ),
                ),
                ("text_de", models.TextField(verbose_name="text (German)")),
                ("text_en", models.TextField(blank=True, verbose_name="text (English)")),
                ("text_fr", models.TextField(blank=True, verbose_name="text (French)")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "site text", "verbose_name_plural": "site texts"},
        ),
    ]
