"""The site's own texts that the organisation edits in the browser: imprint, privacy notice, front-door intro.

They are legal texts (Impressum, Datenschutzerklärung) that only the organisation running digifit can write, so
they live in the database, one row per key with a text per UI language, rather than in templates. Stored as
plain text and rendered with ``linebreaks`` (escaped): nobody can put markup or script on a public page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SitePage(models.Model):
    """One editable text of the site, in German (required), English and French (optional: German is shown)."""

    class Key(models.TextChoices):
        IMPRINT = "imprint", _("Imprint")
        PRIVACY = "privacy", _("Privacy notice")
        FRONT_INTRO = "front_intro", _("Front page introduction")

    key = models.CharField(_("page"), max_length=20, choices=Key.choices, unique=True)
    text_de = models.TextField(_("text (German)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    text_fr = models.TextField(_("text (French)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("site text")
        verbose_name_plural = _("site texts")

    def __str__(self) -> str:
        return self.get_key_display()

    def text_in(self, language: str) -> str:
        """The text in ``language`` (German when no translation is stored)."""
        return {"en": self.text_en, "fr": self.text_fr}.get(language) or self.text_de
