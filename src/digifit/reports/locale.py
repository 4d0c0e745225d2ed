"""The report's words and number formats in German and English (a small dictionary, not gettext).

The report's strings live here rather than in the web app's gettext catalogue so that the library renders without
Django; each key has both languages (a test checks that). Level labels (countries, sectors, size classes) come from
the choice labels of the questionnaire version being reported (:func:`labels_from_schema` for a stored version,
:func:`labels_from_form` for an XLSForm file), so they read exactly as the respondents saw them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LANGUAGES", "LEVEL_COLUMNS", "STRINGS", "LevelLabels", "fmt_int", "fmt_num", "fmt_pct", "fmt_pp", "label",
    "labels_from_form", "labels_from_schema", "level_label",
]  # fmt: skip

#: ``{column: {value: {language: label}}}``, the default language first in each value's labels
LevelLabels = Mapping[str, Mapping[str, Mapping[str, str]]]
#: the columns whose levels the report labels (the breakdowns and the margins)
LEVEL_COLUMNS = ("country", "sector", "size")

LANGUAGES = ("de", "en")

STRINGS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Digitalisierung im Mittelstand – Kernergebnisse",
        "subtitle": "Gewichtete Schätzungen mit Konfidenzintervallen",
        "source": "Datengrundlage",
        "waves": "Wellen",
        "responses": "Antworten",
        "generated": "Erstellt am",
        "key_finding": "Kernergebnis",
        "key_finding_text": (
            "Anteil der Unternehmen, die mindestens 25 % ihres Umsatzes über digitale Kanäle erzielen"
        ),
        "online_finding_text": (
            "Unternehmen, die schon vor der Krise online waren, meldeten seltener Umsatzeinbrüche von 25 % oder mehr"
        ),
        "t_headline": "Anteil mit mindestens 25 % digitalem Umsatz nach Land",
        "t_sector": "Anteil mit mindestens 25 % digitalem Umsatz nach Branche (alle Länder)",
        "t_size": "Anteil mit mindestens 25 % digitalem Umsatz nach Größenklasse (alle Länder)",
        "t_online": "Online vor der Krise – Umsatzentwicklung im Vergleich",
        "t_weighting": "Ungewichtet und gewichtet: Anteil mit mindestens 25 % digitalem Umsatz",
        "t_sample": "Stichprobe und Gewichtung",
        "t_method": "Methode",
        "t_margins_cs": "Gewichtung: Unternehmen nach Land und Größenklasse (Randverteilung)",
        "t_margins_sector": "Gewichtung: Unternehmen nach Branche (Randverteilung)",
        "t_notes": "Hinweise",
        "c_country": "Land",
        "c_sector": "Branche",
        "c_size": "Größenklasse",
        "c_share": "Anteil",
        "c_ci": "95 %-KI",
        "c_ci_low": "untere Grenze",
        "c_ci_high": "obere Grenze",
        "c_n": "n",
        "c_cv": "VK",
        "c_se": "SF",
        "c_note": "Hinweis",
        "c_indicator": "Merkmal",
        "c_online": "Online vor der Krise",
        "c_offline": "Nicht online",
        "c_difference": "Differenz (Pp.)",
        "c_unweighted": "Ungewichtet",
        "c_weighted": "Gewichtet",
        "c_gap": "Unterschied (Pp.)",
        "c_responses": "Antworten",
        "c_businesses": "Unternehmen",
        "c_panel": "davon Panel",
        "c_population": "Unternehmen (Grundgesamtheit)",
        "c_weighted_total": "Summe der Gewichte",
        "c_deff": "Designeffekt",
        "all": "Alle Länder",
        "i_loss25": "Umsatz um 25 % oder mehr gesunken",
        "i_loss": "Umsatz gesunken",
        "suppressed": "–",
        "flag": "*",
        "note_suppressed": "– nicht ausgewiesen: weniger als {min_n} Antworten in der Zelle.",
        "note_flagged": "* Variationskoeffizient über {max_cv}: mit Vorsicht interpretieren.",
        "note_ci": (
            "95 %-KI: Konfidenzintervall. Würde man die Befragung unter gleichen Bedingungen sehr oft wiederholen, "
            "enthielten 95 % der so berechneten Intervalle den wahren Anteil. Es erfasst den Zufallsfehler der "
            "Stichprobe, nicht systematische Verzerrungen durch die Auswahl der Befragten."
        ),
        "note_weighting": (
            "Gewichtung: Die Antworten wurden auf die Zahl der Unternehmen nach Land × Größenklasse und nach "
            "Branche hochgerechnet (Raking). Quelle der Randverteilungen: {margins}."
        ),
        "note_design": (
            "Varianzschätzung: Taylor-Linearisierung mit Ländern als Schichten und Unternehmen als Klumpen "
            "(Panel-Unternehmen, die mehrere Wellen beantworten, zählen als ein Klumpen); die Gewichtung ist in "
            "den Standardfehlern berücksichtigt. Der Designeffekt vergleicht die Varianz mit einer einfachen "
            "Zufallsstichprobe gleichen Umfangs."
        ),
        "note_difference": (
            "Differenz: Die beiden Gruppen stammen aus derselben Stichprobe; Standardfehler und Intervall der "
            "Differenz sind aus deren gemeinsamer Linearisierung geschätzt (nicht als unabhängige Gruppen). "
            "Pp. = Prozentpunkte. Ohne »Weiß nicht«."
        ),
        "note_unweighted": (
            "Ungewichtet: einfacher Anteil unter den Antwortenden. Die Online-Rekrutierung erreicht digitale "
            "Unternehmen eher; die Gewichtung gleicht Unterschiede nach Land, Größe und Branche aus."
        ),
        "note_sector_scaled": (
            "Die Branchen-Randverteilung gilt für alle Länder der Randverteilungen; für die Länder dieser Stichprobe "
            "wurde sie auf deren Unternehmenszahl skaliert (Annahme: gleiche Branchenstruktur)."
        ),
        "chart_headline": "Anteil mit mindestens 25 % digitalem Umsatz (95 %-KI)",
        "chart_online": "Anteil mit Umsatzrückgang von 25 % oder mehr (95 %-KI)",
        "page": "Seite",
    },
    "en": {
        "title": "SME digitalisation – headline findings",
        "subtitle": "Weighted estimates with confidence intervals",
        "source": "Data",
        "waves": "Waves",
        "responses": "responses",
        "generated": "Generated on",
        "key_finding": "Headline",
        "key_finding_text": "Share of businesses earning at least 25% of their revenue through digital channels",
        "online_finding_text": (
            "Businesses that were online before the crisis less often reported revenue falls of 25% or more"
        ),
        "t_headline": "Share with at least 25% digital revenue, by country",
        "t_sector": "Share with at least 25% digital revenue, by sector (all countries)",
        "t_size": "Share with at least 25% digital revenue, by size class (all countries)",
        "t_online": "Online before the crisis – revenue change compared",
        "t_weighting": "Unweighted and weighted: share with at least 25% digital revenue",
        "t_sample": "Sample and weighting",
        "t_method": "Method",
        "t_margins_cs": "Weighting: enterprises by country and size class (margin)",
        "t_margins_sector": "Weighting: enterprises by sector (margin)",
        "t_notes": "Notes",
        "c_country": "Country",
        "c_sector": "Sector",
        "c_size": "Size class",
        "c_share": "Share",
        "c_ci": "95% CI",
        "c_ci_low": "low",
        "c_ci_high": "high",
        "c_n": "n",
        "c_cv": "CV",
        "c_se": "SE",
        "c_note": "Note",
        "c_indicator": "Indicator",
        "c_online": "Online before the crisis",
        "c_offline": "Not online",
        "c_difference": "Difference (pp)",
        "c_unweighted": "Unweighted",
        "c_weighted": "Weighted",
        "c_gap": "Gap (pp)",
        "c_responses": "Responses",
        "c_businesses": "Businesses",
        "c_panel": "of which panel",
        "c_population": "Enterprises (population)",
        "c_weighted_total": "Sum of weights",
        "c_deff": "Design effect",
        "all": "All countries",
        "i_loss25": "Revenue fell by 25% or more",
        "i_loss": "Revenue fell",
        "suppressed": "–",
        "flag": "*",
        "note_suppressed": "– not shown: fewer than {min_n} responses in the cell.",
        "note_flagged": "* Coefficient of variation above {max_cv}: interpret with caution.",
        "note_ci": (
            "95% CI: confidence interval. If the survey were repeated many times under the same conditions, 95% "
            "of the intervals computed this way would contain the true share. It covers the sampling error, not "
            "systematic bias from who chose to respond."
        ),
        "note_weighting": (
            "Weighting: responses were raked to the number of enterprises by country × size class and by sector. "
            "Source of the margins: {margins}."
        ),
        "note_design": (
            "Variance: Taylor linearisation with countries as strata and businesses as clusters (a panel business "
            "answering several waves is one cluster); the weighting is taken into account in the standard errors. "
            "The design effect compares the variance with a simple random sample of the same size."
        ),
        "note_difference": (
            "Difference: both groups come from the same sample; the standard error and interval of the difference "
            "are estimated from their joint linearisation (not as independent groups). pp = percentage points. "
            'Excluding "don\'t know".'
        ),
        "note_unweighted": (
            "Unweighted: the plain share among respondents. Online recruitment reaches digital businesses more "
            "easily; weighting corrects differences by country, size and sector."
        ),
        "note_sector_scaled": (
            "The sector margin covers all countries of the margins; for the countries in this sample it was scaled "
            "to their number of enterprises (assuming the same sector mix)."
        ),
        "chart_headline": "Share with at least 25% digital revenue (95% CI)",
        "chart_online": "Share with a revenue fall of 25% or more (95% CI)",
        "page": "Page",
    },
}


def label(key: str, lang: str, **kwargs: Any) -> str:
    """Return the string ``key`` in ``lang`` (``str.format``-ed with ``kwargs``)."""
    text = STRINGS[lang][key]
    return text.format(**kwargs) if kwargs else text


def level_label(column: str, value: str, lang: str, labels: LevelLabels | None = None) -> str:
    """Return the questionnaire's label of a level of ``column`` in ``lang``, or the value itself.

    ``labels`` are the reported questionnaire version's (:func:`labels_from_schema`). A level the form labels
    only in other languages gets the form's default-language label; the code is the fallback only when the form
    has no label for it.

    >>> labels = {"country": {"DE": {"de": "Deutschland", "en": "Germany"}}}
    >>> level_label("country", "DE", "en", labels), level_label("country", "DE", "fr", labels)
    ('Germany', 'Deutschland')
    >>> level_label("country", "XX", "de", labels), level_label("country", "DE", "de")
    ('XX', 'DE')
    """
    if value == "all":
        return label("all", lang)
    found = ((labels or {}).get(column) or {}).get(value) or {}
    return found.get(lang) or next((text for text in found.values() if text), None) or value


def _ordered(labels: Mapping[str, str], default: str | None) -> dict[str, str]:
    out = {default: labels[default]} if default and labels.get(default) else {}
    out.update((lang, text) for lang, text in labels.items() if text and lang not in out)
    return out


def labels_from_schema(schema: Mapping[str, Any], columns: tuple[str, ...] = LEVEL_COLUMNS) -> dict:
    """The level labels of ``columns`` from a stored questionnaire version's schema (``QuestionnaireVersion.schema``:
    its ``fields`` name their choice list, ``choices`` hold each choice's labels per language).

    >>> schema = {"default_language": "de", "fields": [{"name": "country", "list_name": "c"}],
    ...           "choices": {"c": [{"name": "DE", "labels": {"en": "Germany", "de": "Deutschland"}}]}}
    >>> labels_from_schema(schema)
    {'country': {'DE': {'de': 'Deutschland', 'en': 'Germany'}}}
    """
    lists = {f.get("name"): f.get("list_name") for f in schema.get("fields", ()) if f.get("list_name")}
    default = schema.get("default_language")
    out: dict[str, dict[str, dict[str, str]]] = {}
    for column in columns:
        choices = schema.get("choices", {}).get(lists.get(column) or "", ())
        levels = {str(c["name"]): _ordered(c.get("labels") or {}, default) for c in choices}
        if levels:
            out[column] = levels
    return out


def labels_from_form(questionnaire: Any, columns: tuple[str, ...] = LEVEL_COLUMNS) -> dict:
    """The level labels of ``columns`` from a loaded XLSForm (:class:`digifit.forms.Questionnaire`)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for column in columns:
        try:
            list_name = questionnaire.field(column).list_name
        except KeyError:
            continue
        levels = {
            str(c.name): _ordered(c.label, questionnaire.default_language)
            for c in questionnaire.choices.get(list_name or "", ())
        }
        if levels:
            out[column] = levels
    return out


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: float | None, lang: str, decimals: int = 1) -> str:
    """Format a number: ``1.234,5`` (de) or ``1,234.5`` (en); missing as an empty string."""
    if _missing(x):
        return ""
    text = f"{float(x):,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text.replace("-", "−")


def fmt_int(x: float | None, lang: str) -> str:
    """Format a whole number with thousands separators."""
    return fmt_num(x, lang, 0)


def fmt_pct(x: float | None, lang: str, decimals: int = 1) -> str:
    """Format a share as per cent: ``33,1 %`` (de) or ``33.1%`` (en).

    >>> fmt_pct(0.331, "de"), fmt_pct(0.331, "en")
    ('33,1 %', '33.1%')
    """
    if _missing(x):
        return ""
    return fmt_num(100 * float(x), lang, decimals) + (" %" if lang == "de" else "%")


def fmt_pp(x: float | None, lang: str, decimals: int = 1) -> str:
    """Format a difference of shares in percentage points, with its sign."""
    if _missing(x):
        return ""
    text = fmt_num(100 * float(x), lang, decimals)
    return text if text.startswith("−") else "+" + text


def fmt_ci(low: float | None, high: float | None, lang: str, kind: str = "pct") -> str:
    """Format an interval: ``30,6–35,5`` (per cent or points, without the unit)."""
    if _missing(low) or _missing(high):
        return ""
    f = fmt_pp if kind == "pp" else (lambda v, lg: fmt_num(100 * float(v), lg, 1))
    return f"{f(low, lang)} – {f(high, lang)}" if kind == "pp" else f"{f(low, lang)}–{f(high, lang)}"
