"""Invitation tokens are stored as SHA-256 digests only: every existing token is replaced by its digest, so the
links already mailed keep working (they are looked up by digest) while the database holds no clear token.

Going back restores a ``token`` column filled with the digests (unique placeholders): the old links then no
longer open their forms — the clear tokens are gone on purpose.
"""

import hashlib

from django.db import migrations, models


def digest_tokens(apps, schema_editor):
    Invitation = apps.get_model("survey", "Invitation")
    for pk, token in Invitation.objects.values_list("pk", "token").iterator():
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        Invitation.objects.filter(pk=pk).update(token_digest=digest, token=None)


def digests_as_placeholders(apps, schema_editor):
    Invitation = apps.get_model("survey", "Invitation")
    for pk, digest in Invitation.objects.values_list("pk", "token_digest").iterator():
        Invitation.objects.filter(pk=pk).update(token=digest)


class Migration(migrations.Migration):
    dependencies = [("survey", "0004_webhook_log_without_reply_bodies")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(digest_tokens, digests_as_placeholders),
        migrations.RemoveField(model_name="invitation", name="token"),
        migrations.AlterField(
            model_name="invitation",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
