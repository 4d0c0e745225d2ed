"""The reports' pages: the dashboard, the analysis page (HTMX + Vega-Lite), report jobs and the population margins
per wave (upload). Views stay thin:
numbers come from :mod:`digifit.reports.selectors` (the report library, hence :mod:`digifit.stats`); the views
only choose labels and formats.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from digifit.errors import DigifitError
from digifit.reports import locale as rl
from digifit.reports import selectors, services
from digifit.reports.models import ReportJob

VIEW = "survey.view_data"  # analysts and survey managers
START = "survey.export_data"

INDICATOR_LABELS = {
    "de": {
        "digital25": "Mindestens 25 % digitaler Umsatz",
        "online_before": "Online vor der Krise",
        "loss25": "Umsatzrückgang um 25 % oder mehr",
        "loss": "Umsatzrückgang",
    },
    "en": {
        "digital25": "At least 25% digital revenue",
        "online_before": "Online before the crisis",
        "loss25": "Revenue fell by 25% or more",
        "loss": "Revenue fell",
    },
}
BREAKDOWN_LABELS = {
    "de": {"country": "Land", "sector": "Branche", "size": "Größenklasse", "wave": "Welle"},
    "en": {"country": "Country", "sector": "Sector", "size": "Size class", "wave": "Wave"},
}
STATUS_MARK = {"ok": "", "flagged": "*", "suppressed": "–"}


def _has_vega() -> bool:
    from django.conf import settings

    return (settings.VENDOR_DIR / "vega-embed.min.js").is_file()


def _lang() -> str:
    return "de" if (get_language() or "de").startswith("de") else "en"


def _min_responses() -> int:
    from django.conf import settings

    return int(getattr(settings, "DIGIFIT_MIN_RESPONSES", 30))


def _too_few(n: int) -> str | None:
    """The message for waves below the minimum number of responses (``DIGIFIT_MIN_RESPONSES``), else None."""
    if n < _min_responses():
        return _("Not enough responses yet (n = %(n)s). Estimates are shown from %(min)s responses on.") % {
            "n": n,
            "min": _min_responses(),
        }
    return None


def _error_message(exc: Exception) -> str:
    """A translated message that says what to do; the library's exception text never reaches the page."""
    from digifit.errors import CalibrationError, DesignError, EstimationError

    if isinstance(exc, selectors.NoMargins):
        return _("No population margins for this wave yet, so the responses cannot be weighted. An analyst "
                 "uploads them on the margins page.")  # fmt: skip
    if isinstance(exc, CalibrationError):
        return _("The responses cannot be weighted to the population margins yet. Wait for more responses or "
                 "check the margins files.")  # fmt: skip
    if isinstance(exc, DesignError | EstimationError):
        return _("These responses do not allow an estimate yet. Choose other waves or wait for more responses.")
    return _("The analysis could not be computed. Choose other waves or ask an administrator to check the data.")


def _collapse_notes(collapsed, lang: str, labels=None) -> list[str]:
    """The weighting notes under a table, in the UI language, built from :class:`digifit.stats.Collapse`."""

    def label(margin, key) -> str:
        return " / ".join(rl.level_label(c, str(v), lang, labels) for c, v in zip(margin, key))

    out = []
    for note in collapsed:
        levels = ", ".join(label(note.margin, k) for k in note.levels)
        if note.into is None:
            out.append(_("Weighting: no responses in any level of %(margin)s; this margin was left out.")
                       % {"margin": " × ".join(BREAKDOWN_LABELS[lang].get(c, c) for c in note.margin)})  # fmt: skip
        else:
            out.append(_("Weighting: no responses yet in %(levels)s; merged with %(into)s.")
                       % {"levels": levels, "into": label(note.margin, note.into)})  # fmt: skip
    return out


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/web/no_access.html", status=403)


def _level(column: str, value: str, lang: str, labels=None) -> str:
    return value if column == "wave" else rl.level_label(column, value, lang, labels)


def _row(estimate, status: str, lang: str, label: str) -> dict:
    shown = status != "suppressed"
    return {
        "label": label,
        "estimate": rl.fmt_pct(estimate.estimate, lang) if shown else "",
        "ci": rl.fmt_ci(estimate.ci_low, estimate.ci_high, lang) if shown else "",
        "n": rl.fmt_int(estimate.n, lang),
        "cv": rl.fmt_pct(estimate.cv, lang) if shown and estimate.cv is not None else "",
        "status": status,
        "mark": STATUS_MARK.get(status, ""),
    }


def _chart_spec(analysis, lang: str, labels=None) -> dict:
    """A Vega-Lite spec of the shown (not suppressed) cells: bars with CI whiskers, or a line for the trend."""
    by = analysis.by
    values = []
    for r in analysis.rows:
        if r.status == "suppressed":
            continue
        d = dict(r.domain)
        values.append(
            {
                "x": _level(by[0], d[by[0]], lang, labels) if by else "",
                "g": _level(by[1], d[by[1]], lang, labels) if len(by) > 1 else "",
                "estimate": r.estimate.estimate,
                "low": r.estimate.ci_low,
                "high": r.estimate.ci_high,
                "n": r.estimate.n,
                "flag": STATUS_MARK[r.status],
            }
        )
    order = list(dict.fromkeys(v["x"] for v in values))
    # the second breakdown in the rows' order (sizes small to large, sectors as the margins), not alphabetical
    g_order = (
        list(dict.fromkeys(_level(by[1], dict(r.domain)[by[1]], lang, labels) for r in analysis.rows))
        if len(by) > 1
        else []
    )
    title_y = INDICATOR_LABELS[lang][analysis.indicator] + (" (95 %-KI)" if lang == "de" else " (95% CI)")
    x = {"field": "x", "type": "ordinal", "sort": order, "title": BREAKDOWN_LABELS[lang][by[0]] if by else None}
    y = {"field": "estimate", "type": "quantitative", "axis": {"format": ".0%"}, "title": title_y}
    tooltip = [
        {"field": "x", "title": BREAKDOWN_LABELS[lang][by[0]] if by else ""},
        {"field": "estimate", "format": ".1%", "title": "%"},
        {"field": "low", "format": ".1%"},
        {"field": "high", "format": ".1%"},
        {"field": "n"},
    ]
    trend = by and by[0] == "wave"
    color = (
        {"field": "g", "type": "nominal", "title": BREAKDOWN_LABELS[lang][by[1]], "scale": {"domain": g_order}}
        if len(by) > 1
        else {"value": "#1f6f8b"}
    )
    if trend:
        layers = [
            {"mark": {"type": "line", "point": True}, "encoding": {"x": x, "y": y, "color": color}},
            {
                "mark": {"type": "rule", "opacity": 0.6},
                "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}, "color": color},
            },
        ]
    else:
        offset = {"xOffset": {"field": "g", "sort": g_order}} if len(by) > 1 else {}
        layers = [
            {"mark": {"type": "bar", "opacity": 0.85}, "encoding": {"x": x, "y": y, "color": color, **offset}},
            {
                "mark": {"type": "rule", "color": "#222", "strokeWidth": 1.5},
                "encoding": {"x": x, "y": {"field": "low", "type": "quantitative"}, "y2": {"field": "high"}, **offset},
            },
        ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 320,
        "data": {"values": values},
        "encoding": {"tooltip": tooltip},
        "layer": layers,
        "config": {"font": "system-ui, sans-serif", "axisX": {"labelAngle": -30 if len(order) > 6 else 0}},
    }


def _analysis_params(request: HttpRequest):
    waves = list(selectors.analysis_waves())
    chosen_ids = [int(w) for w in request.GET.getlist("wave") if str(w).isdigit()]
    chosen = [w for w in waves if w.pk in chosen_ids] or waves[:1]
    indicator = request.GET.get("indicator") or "digital25"
    by = tuple(b for b in (request.GET.get("by") or "country", request.GET.get("by2") or "") if b)
    return waves, chosen, indicator, by


def _analysis_context(request: HttpRequest) -> dict:
    lang = _lang()
    waves, chosen, indicator, by = _analysis_params(request)
    ctx = {
        "waves": waves,
        "chosen": {w.pk for w in chosen},
        "indicator": indicator,
        "by": by[0] if by else "",
        "by2": by[1] if len(by) > 1 else "",
        "indicators": INDICATOR_LABELS[lang].items(),
        "breakdowns": BREAKDOWN_LABELS[lang].items(),
        "query": request.GET.urlencode(),
        "has_vega": _has_vega(),
    }
    if not chosen:
        ctx["error"] = _("No wave with responses yet.")
        return ctx
    too_few = _too_few(sum(w.n for w in chosen))
    if too_few:
        ctx["error"] = too_few
        return ctx
    try:
        a = selectors.analysis_get(waves=chosen, indicator=indicator, by=by)
    except DigifitError as exc:
        ctx["error"] = _error_message(exc)
        ctx["no_margins"] = isinstance(exc, selectors.NoMargins)
        return ctx
    labels = selectors.level_labels_get(waves=chosen)
    rows = []
    for r in a.rows:
        label = " · ".join(_level(c, v, lang, labels) for c, v in r.domain)
        rows.append(_row(r.estimate, r.status, lang, label))
    comparison = None
    if a.comparison is not None:
        c = a.comparison
        comparison = {
            "online": _row(c.online.estimate, c.online.status, lang, _("Online before the crisis")),
            "offline": _row(c.offline.estimate, c.offline.status, lang, _("Not online before the crisis")),
            "difference": rl.fmt_pp(c.difference.estimate.estimate, lang)
            if c.difference.status != "suppressed"
            else "",
            "difference_ci": rl.fmt_ci(c.difference.estimate.ci_low, c.difference.estimate.ci_high, lang, "pp")
            if c.difference.status != "suppressed"
            else "",
        }
    ctx.update(
        analysis=a,
        indicator_label=INDICATOR_LABELS[lang][indicator],
        by_label=" × ".join(BREAKDOWN_LABELS[lang][b] for b in a.by),
        rows=rows,
        overall=_row(a.overall.estimate, a.overall.status, lang, _("All")),
        comparison=comparison,
        chart=_chart_spec(a, lang, labels),
        n_rows=rl.fmt_int(a.n_rows, lang),
        wave_names=", ".join(a.waves),
        notes=_collapse_notes(a.collapsed, lang, labels),
        design_sentence=selectors.design_sentence(a.design_note),
    )
    return ctx


def _can_view(user) -> bool:
    return user.is_authenticated and user.has_perm(VIEW)


@login_required
def analysis(request: HttpRequest) -> HttpResponse:
    """The analysis page: waves, indicator, breakdown (HTMX updates the results)."""
    if not _can_view(request.user):
        return _forbidden(request)
    return render(request, "reports/web/analysis.html", _analysis_context(request))


@login_required
def analysis_results(request: HttpRequest) -> HttpResponse:
    """The results fragment (table, chart, comparison) for HTMX."""
    if not _can_view(request.user):
        return _forbidden(request)
    return render(request, "reports/web/_analysis_results.html", _analysis_context(request))


@login_required
def analysis_json(request: HttpRequest) -> HttpResponse:
    """The same results as JSON: one object per cell, as :meth:`digifit.stats.Estimate.to_dict` plus status."""
    if not _can_view(request.user):
        return JsonResponse({"error": "forbidden"}, status=403)
    _waves, chosen, indicator, by = _analysis_params(request)
    try:
        a = selectors.analysis_get(waves=chosen, indicator=indicator, by=by)
    except DigifitError as exc:
        return JsonResponse({"error": _error_message(exc)}, status=400)

    def row(r):
        return {**r.estimate.to_dict(), "domain": dict(r.domain), "status": r.status}

    out = {
        "indicator": a.indicator,
        "by": list(a.by),
        "waves": list(a.waves),
        "rows": [row(r) for r in a.rows],
        "overall": row(a.overall),
    }
    if a.comparison is not None:
        c = a.comparison
        out["comparison"] = {k: {"status": ln.status, **ln.estimate.to_dict()}
                             for k, ln in (("online", c.online), ("offline", c.offline),
                                           ("difference", c.difference))}  # fmt: skip
    return JsonResponse(out, json_dumps_params={"ensure_ascii": False, "default": str})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The headline finding of the latest wave: share ≥ 25 % digital revenue by country, weighted vs unweighted."""
    if not _can_view(request.user):
        return _forbidden(request)
    lang = _lang()
    all_waves = list(selectors.analysis_waves())
    ids = {int(w) for w in request.GET.getlist("wave") if str(w).isdigit()}
    chosen = [w for w in all_waves if w.pk in ids] or all_waves[:1]
    wave = chosen[0] if chosen else None
    ctx: dict = {
        "wave": wave,
        "waves": all_waves,
        "chosen": {w.pk for w in chosen},
        "wave_names": ", ".join(w.name for w in chosen),
        "has_vega": _has_vega(),
    }
    n_chosen = sum(w.n for w in chosen)
    if wave is not None and _too_few(n_chosen):
        ctx["error"] = _too_few(n_chosen)
    elif wave is not None:
        try:
            report = selectors.headline_get(waves=chosen)
        except DigifitError as exc:
            ctx["error"] = _error_message(exc)
            ctx["no_margins"] = isinstance(exc, selectors.NoMargins)
        else:
            rows = []
            for line in report.weighted_vs_unweighted:
                r = _row(line.estimate, line.status, lang, rl.level_label("country", line.key, lang, report.labels))
                u = line.unweighted
                r["unweighted"] = rl.fmt_pct(u.estimate, lang) if u is not None else ""
                r["gap"] = rl.fmt_pp(line.estimate.estimate - u.estimate, lang) if u is not None else ""
                r["key"] = line.key
                rows.append(r)
            from digifit.reports.charts import headline_chart

            ctx.update(
                rows=rows,
                n_rows=rl.fmt_int(report.n_rows, lang),
                chart=headline_chart(report, lang),
                notes=_collapse_notes(report.collapsed, lang, report.labels),
                margins_source=report.margins_source,
            )
    return render(request, "reports/web/dashboard.html", ctx)


# ------------------------------------------------------------------------------------------------ reports


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """Report jobs: start one (wave, format, language), see progress, download."""
    if not _can_view(request.user):
        return _forbidden(request)
    services.reportjob_requeue_stale()
    ctx = {
        "waves": selectors.analysis_waves(),
        "jobs": selectors.reportjob_list(),
        "formats": ReportJob.Format.choices,
        "langs": ReportJob.Lang.choices,
        "can_start": request.user.has_perm(START),
        "error": request.GET.get("error", ""),
    }
    return render(request, "reports/web/reports.html", ctx)


@login_required
@require_POST
def report_start(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(START):
        return _forbidden(request)
    wave = selectors.analysis_waves().filter(pk=request.POST.get("wave") or 0).first()
    if wave is None:
        return render(request, "reports/web/reports.html", {"error": _("Choose a wave.")}, status=400)
    try:
        services.reportjob_create(
            wave=wave, format=request.POST.get("format", "pdf"), lang=request.POST.get("lang", "de"), user=request.user
        )
    except services.ReportJobError as exc:
        return HttpResponse(str(exc), status=400)
    return redirect("reports:list")


# ------------------------------------------------------------------------------------------------ margins


class MarginsForm(forms.Form):
    wave = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Wave"), empty_label=None)
    file = forms.FileField(label=gettext_lazy("Margins (CSV: the variables and Freq)"))
    source = forms.CharField(
        label=gettext_lazy("Source"), max_length=500, required=False,
        help_text=gettext_lazy("Where the counts come from (shown in the reports' weighting note)."),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from digifit.survey.models import Wave

        self.fields["wave"].queryset = Wave.objects.select_related("questionnaire").order_by("-pk")


def _margins_message(exc: Exception) -> str:
    """The translated message of a refused margins file: what is wrong and where (row, column)."""
    from digifit.uploads import UploadRefused

    if isinstance(exc, UploadRefused):
        if exc.code == "too_large":
            return _("The file is larger than %(max_mb)s MB.") % exc.params
        if exc.code == "too_many_rows":
            return _("The file has more than %(n)s rows.") % exc.params
        return _("The file was refused.")
    texts = {
        "encoding": _("The file is not UTF-8 text; save it as “CSV UTF-8”."),
        "empty": _("The file is empty."),
        "csv": _("The file is not a CSV file."),
        "no_count": _("Expected exactly one count column, “Freq” or “count”."),
        "empty_header": _("A column has no name."),
        "duplicate_column": _("The column appears twice."),
        "no_variables": _("Expected at least one variable column (such as country, size, sector) next to Freq."),
        "width": _("This row has a different number of cells than the header."),
        "count": _("The count is not a number ≥ 0."),
        "no_level": _("The row gives no level of any variable."),
        "duplicate_level": _("This level is given twice."),
        "zero": _("This margin sums to zero."),
        "missing_margin": _("The margins the reports need are missing: %(margins)s.")
        % {"margins": exc.params.get("margins", "") if hasattr(exc, "params") else ""},
    }
    text = texts.get(getattr(exc, "code", ""), _("The file is not a margins file."))
    where = []
    if getattr(exc, "row", None):
        where.append(_("row %(row)s") % {"row": exc.row})
    if getattr(exc, "column", None):
        where.append(_("column “%(column)s”") % {"column": exc.column})
    return f"{', '.join(where)}: {text}" if where else text


@login_required
def margins(request: HttpRequest) -> HttpResponse:
    """The population margins per wave: the versions stored, and an upload form for analysts."""
    if not _can_view(request.user):
        return _forbidden(request)
    can_upload = request.user.has_perm(START)
    form = MarginsForm(initial={"wave": request.GET.get("wave")} if request.GET.get("wave") else None)
    status = 200
    if request.method == "POST":
        if not can_upload:
            return _forbidden(request)
        form = MarginsForm(request.POST, request.FILES)
        if form.is_valid():
            from digifit.survey.margins import MarginsError
            from digifit.uploads import UploadLimits, UploadRefused

            upload = form.cleaned_data["file"]
            wave = form.cleaned_data["wave"]
            limit = UploadLimits().max_bytes
            try:
                if upload.size > limit:  # before reading it: the parser checks the size again
                    raise UploadRefused("too_large", "The file is larger than {max_mb} MB.", max_mb=limit // 2**20)
                stored = services.margins_upload(
                    wave=wave, content=upload.read(), filename=upload.name,
                    source=form.cleaned_data["source"], user=request.user,
                )  # fmt: skip
            except (MarginsError, UploadRefused) as exc:
                form.add_error("file", _margins_message(exc))
            else:
                messages.success(
                    request,
                    _("Stored the margins of wave %(wave)s as version %(version)s.")
                    % {"wave": wave.name, "version": stored.version},
                )
                return redirect("reports:margins")
        status = 400
    from digifit.survey.models import Wave

    waves = [
        {"wave": w, "versions": selectors.margins_list(wave=w)}
        for w in Wave.objects.select_related("questionnaire").order_by("-pk")
    ]
    ctx = {"form": form, "waves": waves, "can_upload": can_upload}
    return render(request, "reports/web/margins.html", ctx, status=status)


@login_required
def report_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job's row (HTMX polls it while the job is queued or running)."""
    if not _can_view(request.user):
        return _forbidden(request)
    job = selectors.reportjob_get(job_id=job_id)
    if job is None:
        raise Http404(job_id)
    return render(request, "reports/web/_job.html", {"job": job})


@login_required
def report_download(request: HttpRequest, job_id: int) -> HttpResponse:
    if not _can_view(request.user):
        return _forbidden(request)
    job = selectors.reportjob_get(job_id=job_id)
    path = services.reportjob_file(job) if job is not None else None
    if path is None:
        raise Http404(job_id)
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.filename)
