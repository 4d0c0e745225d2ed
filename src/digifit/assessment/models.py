"""Digital-Check data: results behind private links, and the cached peer estimates of a survey wave.

Models hold data and constraints only; writes go through :mod:`digifit.assessment.services`, reads through
:mod:`digifit.assessment.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Assessment(models.Model):
    """One completed Digital-Check.

    ``token`` is the private link (unguessable, 32 URL-safe characters): whoever has it sees the result; there
    is no other way in. ``result`` is :meth:`digifit.assessment.scoring.CheckResult.to_dict` and
    ``rules_version`` the version of the scoring rules that made it. ``previous`` links a re-assessment to the
    result it was started from (same private link chain). A result is anonymous until its owner claims it:
    ``owner`` is the account that claimed it (after proving its e-mail address, see the programme's claim
    pages) and ``claimed_at`` when. ``email`` is the address typed in the check (optional); it only prefills
    the claim form behind the private link: nothing is ever looked up by it. A result is used in statistics
    only with ``consent_statistics``.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retakes", editable=False
    )
    form_id = models.CharField(max_length=200)
    form_version = models.CharField(max_length=100)
    rules_version = models.CharField(_("scoring rules version"), max_length=50)
    language = models.CharField(_("language"), max_length=10, default="de")
    answers = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    country = models.CharField(_("country"), max_length=20, blank=True)
    sector = models.CharField(_("sector"), max_length=50, blank=True)
    size = models.CharField(_("size class"), max_length=20, blank=True)
    dii_score = models.PositiveSmallIntegerField(_("DII score"))
    dii_level = models.CharField(_("DII level"), max_length=20)
    overall = models.FloatField(_("overall maturity"), null=True, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assessments",
        editable=False,
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    consent_statistics = models.BooleanField(_("may be used in statistics"), default=False)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"))

    class Meta:
        verbose_name = _("Digital-Check result")
        verbose_name_plural = _("Digital-Check results")
        ordering = ["-completed_at", "-id"]  # noqa: RUF012 - Django reads Meta lists
        indexes = [  # noqa: RUF012
            models.Index(fields=["owner", "completed_at"], name="assessment_owner"),
            models.Index(fields=["consent_statistics", "id"], name="assessment_consent"),
        ]

        constraints = [  # noqa: RUF012
            models.CheckConstraint(
                condition=models.Q(owner__isnull=True, claimed_at__isnull=True)
                | models.Q(owner__isnull=False, claimed_at__isnull=False),
                name="assessment_claim_has_owner_and_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country}/{self.sector}/{self.size} · {self.completed_at:%Y-%m-%d}"


class PeerTable(models.Model):
    """The peer estimates of one survey wave (:func:`digifit.assessment.benchmark.peer_table`), cached.

    ``fingerprint`` changes when the wave's complete submissions change (count and last update), so a cached
    table is never used for data it was not computed from.
    """

    wave = models.ForeignKey("survey.Wave", on_delete=models.CASCADE, related_name="peer_tables")
    fingerprint = models.CharField(max_length=200)
    weighting = models.CharField(max_length=20)
    table = models.JSONField()
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("peer table")
        verbose_name_plural = _("peer tables")
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["wave", "fingerprint"], name="assessment_peer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.wave} · {self.fingerprint}"
