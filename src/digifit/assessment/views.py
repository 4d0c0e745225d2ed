"""Digital-Check pages: thin views over selectors and services. No account needed: a result lives behind its
private link (``/check/r/<token>/``), which is the only way to see it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from digifit.assessment import charts, display, scoring, selectors, services
from digifit.assessment.models import Assessment
from digifit.errors import DigifitError

INPUT_TYPES = {"select_one", "text", "integer", "decimal"}


def _sections(form, language: str, values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The check form as groups of questions for the template (labels in ``language``)."""
    fallback = form.default_language
    out: list[dict[str, Any]] = []
    intro = None
    for top in form.fields:
        if top.type == "note":
            intro = top.text("label", language, fallback)
            continue
        if not top.group:
            continue
        questions = []
        for f in top.children:
            if f.type not in INPUT_TYPES:
                continue
            choices = [
                (c.name, c.label.get(language) or c.label.get(fallback) or c.name)
                for c in form.choices.get(f.list_name or "", ())
            ]
            questions.append(
                {
                    "name": f.name,
                    "label": f.text("label", language, fallback),
                    "hint": f.text("hint", language, fallback) if f.hint else "",
                    "type": f.type,
                    "likert": (f.appearance or "") == "likert",
                    "yesno": f.list_name == "yesno",
                    "required": f.required is True,
                    "choices": choices,
                    "value": str(values.get(f.name, "")),
                    "error": errors.get(f.name, ""),
                }
            )
        out.append({"name": top.name, "title": top.text("label", language, fallback), "questions": questions})
    if out and intro:
        out[0]["intro"] = intro
    return out


@never_cache
def check_form(request: HttpRequest) -> HttpResponse:
    """The check: one page, every question; on success a redirect to the private result link.

    ``?from=<token>`` (the "take the check again" button of a result) prefills the previous answers and links
    the new result to the previous one, so the result page shows the progress.
    """
    form = selectors.check_form_get()
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in form.languages else form.default_language
    previous = selectors.assessment_get(token=request.POST.get("previous") or request.GET.get("from") or "")
    # Nothing is looked up by a typed or account e-mail: only the private link of a result opens it.
    values: dict[str, Any] = dict(previous.answers) if previous and request.method == "GET" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        names = {f.name for f in form.walk() if f.type in INPUT_TYPES}
        values = {k: v.strip() for k, v in request.POST.items() if k in names and v.strip()}
        try:
            assessment = services.assessment_submit(answers=values, language=language, previous=previous)
        except services.CheckRejected as exc:
            errors = {field.rsplit("/", 1)[-1]: message for field, message in exc.problems}
        else:
            return redirect("assessment:result", token=assessment.token)
    sections = _sections(form, language, values, errors)
    context = {
        "form_title": form.title,
        "sections": sections,
        "errors": errors,
        # the error summary at the top names and links every question that needs an answer (GOV.UK pattern)
        "problems": [q for section in sections for q in section["questions"] if q.get("error")],
        "previous": previous,
    }
    return render(request, "assessment/check.html", context, status=422 if errors else 200)


def _dimension_labels(form, language: str) -> dict[str, str]:
    fallback = form.default_language
    return {f.name.removeprefix("dma_"): f.text("label", language, fallback) for f in form.fields if f.group}


def _choice_label(form, list_name: str, value: str | None, language: str) -> str:
    if value is None:
        return "–"
    return form.choice_label(list_name, value, language) or value


MEASURE_LABELS = {
    "digital25": lambda: _("At least 25 % of revenue through digital channels"),
    "website": lambda: _("Own website"),
    "online_shop": lambda: _("Online shop"),
    "social_media": lambda: _("Social-media page"),
    "messaging": lambda: _("Messaging with customers"),
}
LEVEL_LABELS = {
    "very_low": lambda: _("very low"),
    "low": lambda: _("low"),
    "high": lambda: _("high"),
    "very_high": lambda: _("very high"),
}
GROUP_LABELS = {
    ("country", "sector", "size"): lambda: _("same country, sector and size"),
    ("country", "sector"): lambda: _("same country and sector"),
    ("country",): lambda: _("same country"),
    (): lambda: _("all businesses surveyed"),
}


def _topic_labels() -> dict[str, str]:
    """The catalogue's names of its topics (codes when no catalogue is configured)."""
    catalogue = selectors.programme_catalogue()
    return catalogue.topic_labels() if catalogue is not None else {}


def _private(response: HttpResponse) -> HttpResponse:
    # the address is the credential: never send it to other sites as a referrer, keep it out of search engines
    response["Referrer-Policy"] = "same-origin"  # "no-referrer" would send "Origin: null" and fail CSRF
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def result(request: HttpRequest, token: str) -> HttpResponse:
    """A result: DII level, dimension scores (chart), peer benchmark with CIs, learning path, progress."""
    assessment = selectors.assessment_get(token=token)
    if assessment is None:
        raise Http404("no result behind this link")
    return _private(render(request, "assessment/result.html", _result_context(request, assessment)))


@never_cache
def result_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The result as a tagged PDF (PDF/UA) in the page's language, to keep or pass on: the same figures as the
    page (level, dimensions with the chart, the peer comparison, the learning path), no private link in it."""
    from weasyprint import HTML

    assessment = selectors.assessment_get(token=token)
    if assessment is None:
        raise Http404("no result behind this link")
    context = _result_context(request, assessment)
    html = render(request, "assessment/result_pdf.html", context).content.decode()
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(pdf_variant="pdf/ua-1")
    response = HttpResponse(pdf, content_type="application/pdf")
    day = timezone.localtime(assessment.completed_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="digital-check-{day}.pdf"'
    return _private(response)


def _result_context(request: HttpRequest, assessment) -> dict[str, Any]:
    """What the result page and its PDF show."""
    form = selectors.check_form_get()
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in form.languages else form.default_language
    res = scoring.CheckResult.from_dict(assessment.result)
    rules = selectors.scoring_rules_get()
    dim_labels = _dimension_labels(form, language)

    progress, progress_refused = None, ""
    previous = assessment.previous
    if previous is not None:
        try:
            progress = scoring.progress(scoring.CheckResult.from_dict(previous.result), res)
        except scoring.RulesVersionMismatch:
            progress_refused = _(
                "Your previous result (%(date)s) was scored with scoring rules version %(old)s, this one with "
                "version %(new)s. The scores mean different things, so they are not compared."
            ) % {
                "date": previous.completed_at.date().isoformat(),
                "old": previous.rules_version,
                "new": assessment.rules_version,
            }
    prev_dims = scoring.CheckResult.from_dict(previous.result).dimensions if progress else {}
    bars = [charts.Bar(dim_labels.get(d, d), s, prev_dims.get(d)) for d, s in res.dimensions.items()]
    chart = charts.dimension_chart(
        bars, title=_("Digital maturity by dimension (0–100)"), previous_label=_("previous result"), language=language
    )

    bench, bench_error = None, ""
    try:
        bench = services.assessment_benchmark(assessment=assessment)
    except DigifitError as exc:
        bench_error = str(exc)
    bench_rows = []
    if bench is not None:
        for row in bench.rows:
            item = {
                "label": MEASURE_LABELS[row.measure](),
                "own": row.own,
                "row": row,
                "group": GROUP_LABELS.get(row.group, lambda: "")(),
                "chart": "",
            }
            if row.estimate is not None:
                pct, low, high = (display.format_percent(v, language) for v in (row.estimate, row.ci_low, row.ci_high))
                item["pct"] = pct
                item["ci"] = f"{low.removesuffix(' %')}–{high}"
                item["chart"] = mark_safe(
                    charts.share_chart(
                        row.estimate,
                        row.ci_low,
                        row.ci_high,
                        own=None,
                        title=f"{pct} [{low}, {high}]",
                    )
                )
            bench_rows.append(item)
    path = selectors.learning_path_get(assessment=assessment, language=language)
    channel_labels = {
        "website": _("Own website"),
        "online_shop": _("Online shop"),
        "social_media": _("Social-media page"),
        "messaging": _("Messaging with customers"),
        "online_ads": _("Online advertising"),
    }
    topic_labels = _topic_labels()
    focus = [
        {
            "title": dim_labels.get(f.key, f.key) if f.kind == "dimension" else channel_labels.get(f.key, f.key),
            "kind": f.kind,
            "score": f.score,
            "topics": f.topics,
            "topic_labels": [topic_labels.get(t, t) for t in f.topics],
            "trainings": [
                {
                    "title": t.title_in(language) if hasattr(t, "title_in") else getattr(t, "title", str(t)),
                    "url": getattr(t, "url", ""),
                    "obj": t,
                }
                for t in f.trainings
            ],
        }
        for f in path.focus
    ]
    sessions = [{"obj": s, "register_url": selectors.session_register_url(s)} for s in path.sessions]
    context = {
        "a": assessment,
        "res": res,
        "level_label": LEVEL_LABELS.get(res.dii_level, lambda: res.dii_level)(),
        "levels": [(lv.code, LEVEL_LABELS.get(lv.code, lambda c=lv.code: c)(), lv.min, lv.max) for lv in rules.levels],
        "n_dii": len(rules.dii_items),
        "chart": mark_safe(chart),
        "dims": [
            (dim_labels.get(d, d), s, (progress.dimensions.get(d) if progress else None))
            for d, s in res.dimensions.items()
        ],
        "progress": progress,
        "progress_refused": progress_refused,
        "previous": previous,
        "bench": bench,
        "bench_rows": bench_rows,
        "bench_error": bench_error,
        "bench_fallback": any(r["row"].fallback for r in bench_rows),
        "focus": focus,
        "sessions": sessions,
        "catalogue_missing": "catalogue unavailable" in path.notes,
        "profile": {
            "country": _choice_label(form, "country", res.profile.get("country"), language),
            "sector": _choice_label(form, "sector", res.profile.get("sector"), language),
            "size": _choice_label(form, "size", res.profile.get("size"), language),
        },
        "share_label": _choice_label(form, "share", res.digital_share, language),
        "private_url": request.build_absolute_uri(),
        "claim_url": selectors.claim_url(assessment),
    }
    context["language"] = language
    context["base_url"] = request.build_absolute_uri("/").rstrip("/")  # the PDF's links are absolute
    return context


@require_POST
def consent(request: HttpRequest, token: str) -> HttpResponse:
    """Give or withdraw consent to use the result in statistics (POST ``consent=yes|no``)."""
    assessment: Assessment | None = selectors.assessment_get(token=token)
    if assessment is None:
        raise Http404("no result behind this link")
    services.assessment_consent_set(assessment=assessment, consent=request.POST.get("consent") == "yes")
    return redirect("assessment:result", token=token)


@require_POST
def delete(request: HttpRequest, token: str) -> HttpResponse:
    """Delete the result behind the link (POST); the check's start page says it is gone."""
    assessment: Assessment | None = selectors.assessment_get(token=token)
    if assessment is None:
        raise Http404("no result behind this link")
    services.assessment_delete(assessment=assessment)
    messages.success(request, _("Your result has been deleted."))
    return redirect("assessment:check")
