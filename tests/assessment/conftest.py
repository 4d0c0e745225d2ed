"""Fixtures of the Digital-Check tests: complete answers built from the rules, with a chosen DII score."""

from __future__ import annotations

import pytest

from digifit.assessment.scoring import load_rules

RULES = load_rules()


def answers(*, dii: int = 5, scale: int | dict[str, int] = 2, share: str = "p25_49", **overrides) -> dict:
    """Complete answers of the bundled check: the first ``dii`` technology items "yes", every maturity item
    ``scale`` (or ``{dimension: value}``), every channel "yes" except online advertising."""
    data: dict = {"country": "DE", "sector": "retail", "size": "micro"}
    for i, name in enumerate(RULES.dii_items):
        data[name] = "yes" if i < dii else "no"
    for key, name in RULES.channels.items():
        data[name] = "no" if key == "online_ads" else "yes"
    data[RULES.share_field] = share
    for dim, names in RULES.dimensions.items():
        value = scale.get(dim, 2) if isinstance(scale, dict) else scale
        for name in names:
            data[name] = str(value)
    data["consent_statistics"] = "yes"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def rules():
    return RULES


# ----------------------------------------------------------------------------------------- survey wave

COUNTRIES = ("DE", "FR")
SECTORS = ("retail", "hospitality", "ict")
SIZES = ("micro", "small")


def survey_answers(rng, *, country: str, sector: str, size: str) -> dict:
    """Answers of the survey questionnaire that the benchmark reads (profile, presence, revenue share)."""
    bands = ["none", "lt10", "p10_24", "p25_49", "p50_74", "p75plus"]
    share = bands[int(rng.integers(0, 6))]
    presence = [p for p in ("website", "online_shop", "social_page", "messaging") if rng.random() < 0.5] or ["none"]
    return {
        "country": country,
        "sector": sector,
        "size": size,
        "presence_before": " ".join(presence),
        "digital_share": share,
        "digital25": int(share in ("p25_49", "p50_74", "p75plus")),
    }


def make_wave(*, name: str = "2026-1", cells: dict | None = None, per_cell: int = 40, seed: int = 7):
    """Store the bundled survey questionnaire, an open wave with the demo's population margins and complete
    submissions: ``per_cell`` per country × sector × size cell, or ``cells[(country, sector, size)]`` for the
    cells given."""
    import uuid

    import numpy as np
    from django.utils import timezone

    from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
    from digifit.survey import services as survey_services
    from digifit.survey.models import Questionnaire, Submission

    version = survey_services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    wave = survey_services.wave_create(
        questionnaire=Questionnaire.objects.get(form_id="future_of_business"), name=name, status="open"
    )
    rng = np.random.default_rng(seed)
    rows = []
    counts = cells or {(c, s, z): per_cell for c in COUNTRIES for s in SECTORS for z in SIZES}
    now = timezone.now()
    for (country, sector, size), n in counts.items():
        for _ in range(n):
            rows.append(
                Submission(
                    instance_id=uuid.uuid4(),
                    questionnaire_version=version,
                    wave=wave,
                    data=survey_answers(rng, country=country, sector=sector, size=size),
                    status=Submission.Status.COMPLETE,
                    source=Submission.Source.IMPORT,
                    submitted_at=now,
                )
            )
    Submission.objects.bulk_create(rows)
    from digifit.demo.waves import margins_csv_bytes

    survey_services.margins_upload(wave=wave, content=margins_csv_bytes(), source="demo")
    return wave
