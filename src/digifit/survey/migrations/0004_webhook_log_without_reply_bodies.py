"""The delivery log keeps a status code and a short error, never the receiver's reply: earlier versions kept
the first 500 bytes of a failed reply in ``last_error`` (``HTTP 500: <reply>``); cut them off."""

from django.db import migrations


def scrub_reply_bodies(apps, schema_editor):
    WebhookDelivery = apps.get_model("survey", "WebhookDelivery")
    rows = WebhookDelivery.objects.filter(last_error__startswith="HTTP ").only("pk", "last_error", "response_code")
    for delivery in rows.iterator():
        short = f"HTTP {delivery.response_code}" if delivery.response_code else delivery.last_error.split(":", 1)[0]
        if short != delivery.last_error:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=short[:300])


class Migration(migrations.Migration):
    dependencies = [("survey", "0003_reminder_schedule")]

    operations = [migrations.RunPython(scrub_reply_bodies, migrations.RunPython.noop)]
