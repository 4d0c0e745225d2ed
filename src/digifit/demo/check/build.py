"""Build the bundled Digital-Check XLSForm ``digital_check.xlsx`` from the tables below.

The check takes about 15 minutes. It has four parts:

* **business profile**: country, sector and size class, with the *same choice codes as the survey*
  (``digifit.demo.questionnaire.build``), so that a result is benchmarked against the right peer cell;
* **Digital Intensity Index** (DII): twelve yes/no technology items modelled on Eurostat's DII; the score is the
  number of "yes" answers (0–12);
* **channels**: own website, online shop, social-media presence, messaging with customers, online advertising and
  the share of revenue through digital channels in the survey's bands (``none`` … ``p75plus``);
* the six dimensions of the **EU Digital Maturity Assessment** (DMA): three statements each, answered on a five
  point scale from 0 ("not at all") to 4 ("fully").

How answers become scores is not in this file: it is in ``rules.toml`` next to it (read by
:mod:`digifit.assessment.scoring`). When you add, rename or drop an item here, update the rules file and raise
its ``version``.

German is the default language; English and French are complete translations. Rebuild after editing::

    python -m digifit.demo.check.build            # writes digifit/assessment/content/v1/digital_check.xlsx
    python -m digifit.demo.check.build out.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

from digifit.demo.questionnaire.build import CHOICES as SURVEY_CHOICES

LANGUAGES = ("Deutsch (de)", "English (en)", "Français (fr)")
FORM_ID = "digital_check"
VERSION = "2026.1"
OUTPUT = Path(__file__).parents[2] / "assessment" / "content" / "v1" / f"{FORM_ID}.xlsx"

T = tuple[str, str, str]  # the same text in de, en, fr

YES_REQUIRED = {"required": "yes"}

# --------------------------------------------------------------------------------------------------------
# items: (name, (de, en, fr))

DII_ITEMS: list[tuple[str, T]] = [
    (
        "dii_internet_staff",
        (
            "Nutzt mehr als die Hälfte Ihrer Beschäftigten das Internet für die Arbeit?",
            "Do more than half of your staff use the internet for their work?",
            "Plus de la moitié de vos salariés utilisent-ils internet pour leur travail ?",
        ),
    ),
    (
        "dii_ict_specialists",
        (
            "Beschäftigen Sie IT-Fachkräfte (intern oder fest beauftragt)?",
            "Do you employ ICT specialists (in-house or on a standing contract)?",
            "Employez-vous des spécialistes informatiques (en interne ou sous contrat permanent) ?",
        ),
    ),
    (
        "dii_broadband",
        (
            "Hat Ihr Unternehmen einen Internetanschluss mit mindestens 30 Mbit/s?",
            "Does your business have an internet connection of at least 30 Mbit/s?",
            "Votre entreprise dispose-t-elle d'une connexion internet d'au moins 30 Mbit/s ?",
        ),
    ),
    (
        "dii_mobile_devices",
        (
            "Arbeiten mehr als 20 % Ihrer Beschäftigten mit mobilen Geräten (Laptop, Tablet, Smartphone)?",
            "Do more than 20% of your staff work with portable devices (laptop, tablet, smartphone)?",
            "Plus de 20 % de vos salariés travaillent-ils avec des appareils portables (ordinateur, tablette, "
            "smartphone) ?",
        ),
    ),
    (
        "dii_online_meetings",
        (
            "Hält Ihr Unternehmen Besprechungen online ab (Video- oder Telefonkonferenzen)?",
            "Does your business hold meetings online (video or phone conferences)?",
            "Votre entreprise tient-elle des réunions en ligne (visio ou audio) ?",
        ),
    ),
    (
        "dii_security_awareness",
        (
            "Werden Ihre Beschäftigten über ihre Pflichten in der IT-Sicherheit informiert?",
            "Are your staff made aware of their obligations in ICT security?",
            "Vos salariés sont-ils informés de leurs obligations en matière de sécurité informatique ?",
        ),
    ),
    (
        "dii_erp",
        (
            "Nutzen Sie eine Unternehmenssoftware (ERP), die Bereiche wie Einkauf, Lager und Buchhaltung verbindet?",
            "Do you use enterprise resource planning (ERP) software linking purchasing, stock and accounting?",
            "Utilisez-vous un progiciel de gestion intégré (ERP) reliant achats, stocks et comptabilité ?",
        ),
    ),
    (
        "dii_crm",
        (
            "Nutzen Sie eine Software für Kundenbeziehungen (CRM)?",
            "Do you use customer relationship management (CRM) software?",
            "Utilisez-vous un logiciel de gestion de la relation client (CRM) ?",
        ),
    ),
    (
        "dii_cloud",
        (
            "Bezahlen Sie Cloud-Dienste (z. B. Buchhaltung, Datenbanken, Rechenleistung)?",
            "Do you pay for cloud services (e.g. accounting, databases, computing)?",
            "Payez-vous des services en nuage (par ex. comptabilité, bases de données, calcul) ?",
        ),
    ),
    (
        "dii_data_analytics",
        (
            "Werten Sie Ihre Daten systematisch aus (z. B. Verkaufs- oder Kundendaten)?",
            "Do you analyse your data systematically (e.g. sales or customer data)?",
            "Analysez-vous vos données de façon systématique (par ex. ventes, clients) ?",
        ),
    ),
    (
        "dii_ai",
        (
            "Nutzen Sie mindestens eine Anwendung künstlicher Intelligenz (z. B. Texterstellung, Chatbot, "
            "Bilderkennung)?",
            "Do you use at least one artificial-intelligence application (e.g. text generation, chatbot, "
            "image recognition)?",
            "Utilisez-vous au moins une application d'intelligence artificielle (par ex. génération de texte, "
            "chatbot, reconnaissance d'images) ?",
        ),
    ),
    (
        "dii_ecommerce",
        (
            "Erzielen Sie mindestens 1 % Ihres Umsatzes mit Online-Verkäufen?",
            "Do online sales make up at least 1% of your turnover?",
            "Les ventes en ligne représentent-elles au moins 1 % de votre chiffre d'affaires ?",
        ),
    ),
]

CHANNEL_ITEMS: list[tuple[str, T]] = [
    (
        "ch_website",
        (
            "Hat Ihr Unternehmen eine eigene Website?",
            "Does your business have its own website?",
            "Votre entreprise a-t-elle son propre site web ?",
        ),
    ),
    (
        "ch_online_shop",
        (
            "Verkaufen Sie über einen Online-Shop?",
            "Do you sell through an online shop?",
            "Vendez-vous via une boutique en ligne ?",
        ),
    ),
    (
        "ch_social_media",
        (
            "Ist Ihr Unternehmen mit einer eigenen Seite in sozialen Medien präsent?",
            "Is your business present with its own page on social media?",
            "Votre entreprise est-elle présente avec sa propre page sur les réseaux sociaux ?",
        ),
    ),
    (
        "ch_messaging",
        (
            "Stehen Sie per Messenger (z. B. WhatsApp) mit Kundinnen und Kunden in Kontakt?",
            "Do you stay in touch with customers via messaging (e.g. WhatsApp)?",
            "Échangez-vous avec vos clients par messagerie (par ex. WhatsApp) ?",
        ),
    ),
    (
        "ch_online_ads",
        ("Schalten Sie Werbung im Internet?", "Do you advertise online?", "Faites-vous de la publicité en ligne ?"),
    ),
]

# The six dimensions of the EU Digital Maturity Assessment: (group name, title, [(item, statement)]).
DMA_DIMENSIONS: list[tuple[str, T, list[tuple[str, T]]]] = [
    (
        "strategy",
        ("Digitale Geschäftsstrategie", "Digital business strategy", "Stratégie numérique"),
        [
            (
                "dma_strategy_plan",
                (
                    "Wir haben einen schriftlichen Plan, wie wir digitale Technik im Geschäft einsetzen.",
                    "We have a written plan for how we use digital technology in our business.",
                    "Nous avons un plan écrit pour l'usage du numérique dans notre activité.",
                ),
            ),
            (
                "dma_strategy_budget",
                (
                    "Für Digitalisierung sind Budget und Zuständigkeiten festgelegt.",
                    "Budget and responsibilities for digitalisation are set.",
                    "Un budget et des responsabilités sont fixés pour la numérisation.",
                ),
            ),
            (
                "dma_strategy_customers",
                (
                    "Wir prüfen regelmäßig, wie digitale Angebote unseren Kunden nützen.",
                    "We regularly review how digital offers serve our customers.",
                    "Nous examinons régulièrement ce que nos offres numériques apportent à nos clients.",
                ),
            ),
        ],
    ),
    (
        "readiness",
        ("Digitale Bereitschaft", "Digital readiness", "Préparation numérique"),
        [
            (
                "dma_ready_processes",
                (
                    "Unsere wichtigsten Abläufe (Angebote, Rechnungen, Termine) laufen digital.",
                    "Our main processes (quotes, invoices, appointments) run digitally.",
                    "Nos principaux processus (devis, factures, rendez-vous) sont numériques.",
                ),
            ),
            (
                "dma_ready_sales",
                (
                    "Kunden können bei uns online anfragen, buchen oder kaufen.",
                    "Customers can enquire, book or buy from us online.",
                    "Nos clients peuvent nous contacter, réserver ou acheter en ligne.",
                ),
            ),
            (
                "dma_ready_security",
                (
                    "Wir sichern Daten regelmäßig und schützen Geräte und Konten (z. B. Zwei-Faktor-Anmeldung).",
                    "We back up data regularly and protect devices and accounts (e.g. two-factor sign-in).",
                    "Nous sauvegardons régulièrement et protégeons appareils et comptes (par ex. double "
                    "authentification).",
                ),
            ),
        ],
    ),
    (
        "human",
        ("Menschenzentrierte Digitalisierung", "Human-centric digitalisation", "Numérisation centrée sur l'humain"),
        [
            (
                "dma_human_skills",
                (
                    "Unsere Beschäftigten haben die digitalen Kenntnisse, die sie brauchen.",
                    "Our staff have the digital skills they need.",
                    "Nos salariés ont les compétences numériques dont ils ont besoin.",
                ),
            ),
            (
                "dma_human_training",
                (
                    "Wir ermöglichen regelmäßig Weiterbildungen zu digitalen Themen.",
                    "We regularly offer training on digital topics.",
                    "Nous proposons régulièrement des formations au numérique.",
                ),
            ),
            (
                "dma_human_involve",
                (
                    "Beschäftigte werden bei der Auswahl neuer digitaler Werkzeuge beteiligt.",
                    "Staff are involved in choosing new digital tools.",
                    "Les salariés participent au choix des nouveaux outils numériques.",
                ),
            ),
        ],
    ),
    (
        "data",
        ("Datenmanagement", "Data management", "Gestion des données"),
        [
            (
                "dma_data_storage",
                (
                    "Unsere Geschäftsdaten liegen geordnet an einem zentralen Ort.",
                    "Our business data are stored in an orderly way in one central place.",
                    "Nos données sont rangées de façon ordonnée en un lieu central.",
                ),
            ),
            (
                "dma_data_use",
                (
                    "Wir treffen Entscheidungen auf Grundlage von Daten.",
                    "We base decisions on data.",
                    "Nous prenons nos décisions sur la base de données.",
                ),
            ),
            (
                "dma_data_protection",
                (
                    "Datenschutz ist geregelt (Verzeichnis, Einwilligungen, Löschfristen).",
                    "Data protection is organised (records, consents, retention periods).",
                    "La protection des données est organisée (registre, consentements, durées de conservation).",
                ),
            ),
        ],
    ),
    (
        "automation",
        ("Automatisierung und KI", "Automation and AI", "Automatisation et IA"),
        [
            (
                "dma_auto_tasks",
                (
                    "Wiederkehrende Aufgaben (z. B. Erinnerungen, Buchungen) laufen automatisch.",
                    "Recurring tasks (e.g. reminders, bookkeeping) run automatically.",
                    "Les tâches répétitives (par ex. relances, écritures) sont automatisées.",
                ),
            ),
            (
                "dma_auto_integration",
                (
                    "Unsere Programme tauschen Daten ohne Abtippen aus.",
                    "Our applications exchange data without retyping.",
                    "Nos logiciels échangent des données sans ressaisie.",
                ),
            ),
            (
                "dma_auto_ai",
                (
                    "Wir setzen künstliche Intelligenz gezielt ein und kennen ihre Grenzen.",
                    "We use artificial intelligence purposefully and know its limits.",
                    "Nous utilisons l'intelligence artificielle à bon escient et en connaissons les limites.",
                ),
            ),
        ],
    ),
    (
        "green",
        ("Grüne Digitalisierung", "Green digitalisation", "Numérique durable"),
        [
            (
                "dma_green_energy",
                (
                    "Wir achten beim Kauf und Betrieb von IT auf den Energieverbrauch.",
                    "We consider energy use when buying and running IT.",
                    "Nous tenons compte de la consommation d'énergie à l'achat et à l'usage de l'informatique.",
                ),
            ),
            (
                "dma_green_paperless",
                (
                    "Digitale Abläufe ersetzen bei uns Papier und Wege.",
                    "Digital processes replace paper and travel for us.",
                    "Les processus numériques remplacent chez nous le papier et les déplacements.",
                ),
            ),
            (
                "dma_green_reuse",
                (
                    "Alte Geräte werden weitergenutzt, repariert oder fachgerecht recycelt.",
                    "Old devices are reused, repaired or properly recycled.",
                    "Les anciens appareils sont réutilisés, réparés ou recyclés correctement.",
                ),
            ),
        ],
    ),
]

# --------------------------------------------------------------------------------------------------------
# survey sheet: (type, name, label, extra columns); extra keys ending in "!" hold translations (T)

Row = tuple[str, str, T | None, dict[str, object]]


def _survey() -> list[Row]:
    rows: list[Row] = [
        (
            "note",
            "intro",
            (
                "Der Digital-Check dauert etwa 15 Minuten. Sie erhalten sofort Ihr Ergebnis, einen Vergleich mit "
                "ähnlichen Unternehmen und passende Trainings.",
                "The Digital-Check takes about 15 minutes. You get your result at once, a comparison with similar "
                "businesses and matching trainings.",
                "Le Digital-Check prend environ 15 minutes. Vous obtenez aussitôt votre résultat, une comparaison "
                "avec des entreprises similaires et des formations adaptées.",
            ),
            {},
        ),
        (
            "begin group",
            "profile",
            ("Ihr Unternehmen", "Your business", "Votre entreprise"),
            {"appearance": "field-list"},
        ),
        (
            "select_one country",
            "country",
            (
                "In welchem Land ist Ihr Unternehmen tätig?",
                "In which country does your business operate?",
                "Dans quel pays votre entreprise est-elle active ?",
            ),
            YES_REQUIRED,
        ),
        (
            "select_one sector",
            "sector",
            (
                "In welcher Branche ist Ihr Unternehmen hauptsächlich tätig?",
                "What is your main sector?",
                "Quel est votre secteur d'activité principal ?",
            ),
            YES_REQUIRED,
        ),
        (
            "select_one size",
            "size",
            (
                "Wie viele Personen beschäftigt Ihr Unternehmen?",
                "How many people does your business employ?",
                "Combien de personnes votre entreprise emploie-t-elle ?",
            ),
            YES_REQUIRED,
        ),
        ("end group", "", None, {}),
        (
            "begin group",
            "technology",
            ("Digitale Technik", "Digital technology", "Technologies numériques"),
            {"appearance": "field-list"},
        ),
    ]
    rows += [("select_one yesno", name, label, YES_REQUIRED) for name, label in DII_ITEMS]
    rows += [
        ("end group", "", None, {}),
        (
            "begin group",
            "channels",
            ("Digitale Kanäle", "Digital channels", "Canaux numériques"),
            {"appearance": "field-list"},
        ),
    ]
    rows += [("select_one yesno", name, label, YES_REQUIRED) for name, label in CHANNEL_ITEMS]
    rows += [
        (
            "select_one share",
            "digital_share",
            (
                "Welcher Anteil Ihres Umsatzes wurde in den letzten 12 Monaten über digitale Kanäle erzielt?",
                "What share of your revenue in the last 12 months came through digital channels?",
                "Quelle part de votre chiffre d'affaires des 12 derniers mois provient des canaux numériques ?",
            ),
            YES_REQUIRED,
        ),
        ("end group", "", None, {}),
    ]
    for group, title, items in DMA_DIMENSIONS:
        rows.append(("begin group", f"dma_{group}", title, {"appearance": "field-list"}))
        rows += [
            ("select_one maturity", name, label, {**YES_REQUIRED, "appearance": "likert"}) for name, label in items
        ]
        rows.append(("end group", "", None, {}))
    rows += [
        ("begin group", "privacy", ("Ihr Ergebnis", "Your result", "Votre résultat"), {"appearance": "field-list"}),
        (
            "select_one yesno",
            "consent_statistics",
            (
                "Dürfen wir Ihr Ergebnis ohne Namen und Kontaktdaten für Statistiken zur Digitalisierung nutzen?",
                "May we use your result, without name or contact details, for statistics on digitalisation?",
                "Pouvons-nous utiliser votre résultat, sans nom ni coordonnées, pour des statistiques sur la "
                "numérisation ?",
            ),
            {
                **YES_REQUIRED,
                "hint!": (
                    "Freiwillig. Ihr Ergebnis sehen Sie in jedem Fall; Sie können die Einwilligung auf der "
                    "Ergebnisseite widerrufen.",
                    "Voluntary. You see your result either way; you can withdraw consent on the result page.",
                    "Facultatif. Vous voyez votre résultat dans tous les cas ; vous pouvez retirer votre "
                    "consentement sur la page de résultat.",
                ),
            },
        ),
        (
            "text",
            "email",
            (
                "E-Mail-Adresse (optional, damit Ihre Teilnahme für das Programm zählt)",
                "E-mail address (optional, so that your participation counts for the programme)",
                "Adresse e-mail (facultatif, pour que votre participation compte pour le programme)",
            ),
            {
                "constraint": r"regex(., '^[^@\s]+@[^@\s]+\.[^@\s]{2,}$')",
                "constraint_message!": (
                    "Bitte eine gültige E-Mail-Adresse angeben, z. B. name@firma.de.",
                    "Please enter a valid e-mail address, e.g. name@company.com.",
                    "Veuillez saisir une adresse e-mail valide, par ex. nom@entreprise.fr.",
                ),
            },
        ),
        ("end group", "", None, {}),
    ]
    return rows


CHOICES: dict[str, list[tuple[str, T]]] = {
    "yesno": [(n, label) for n, label, _ in SURVEY_CHOICES["yesno"]],
    "country": [(n, label) for n, label, _ in SURVEY_CHOICES["country"]],
    "sector": [(n, label) for n, label, _ in SURVEY_CHOICES["sector"]],
    "size": [(n, label) for n, label, _ in SURVEY_CHOICES["size"]],
    "share": [(n, label) for n, label, _ in SURVEY_CHOICES["share"]],
    "maturity": [
        ("0", ("Trifft nicht zu", "Not at all", "Pas du tout")),
        ("1", ("Erste Ansätze", "First steps", "Premiers pas")),
        ("2", ("Teilweise", "Partly", "En partie")),
        ("3", ("Weitgehend", "Largely", "Largement")),
        ("4", ("Trifft voll zu", "Fully", "Tout à fait")),
    ],
}

SETTINGS = {
    "form_title": "Digital-Check",
    "form_id": FORM_ID,
    "version": VERSION,
    "default_language": LANGUAGES[0],
    "style": "pages",
}


def build_workbook():
    """Return the check as an ``openpyxl.Workbook`` (survey, choices and settings sheets)."""
    import openpyxl
    from openpyxl.styles import Font

    translated = ("label", "hint", "constraint_message")
    plain = ("required", "relevant", "constraint", "appearance")
    headers = ["type", "name"]
    for base in translated:
        headers += [f"{base}::{lang}" for lang in LANGUAGES]
    headers += list(plain)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(headers)
    for type_, name, label, extra in _survey():
        row: dict[str, object] = {"type": type_, "name": name}
        texts = {"label": label} | {k[:-1]: v for k, v in extra.items() if k.endswith("!")}
        for base, values in texts.items():
            if values:
                row.update({f"{base}::{lang}": text for lang, text in zip(LANGUAGES, values, strict=True)})
        row.update({k: v for k, v in extra.items() if not k.endswith("!")})
        unknown = set(row) - set(headers)
        if unknown:
            raise ValueError(f"survey row {name!r}: columns {sorted(unknown)} are not in the header")
        ws.append([row.get(h) or None for h in headers])

    wc = wb.create_sheet("choices")
    wc.append(["list_name", "name", *(f"label::{lang}" for lang in LANGUAGES)])
    for list_name, items in CHOICES.items():
        for name, label in items:
            wc.append([list_name, name, *label])

    st = wb.create_sheet("settings")
    st.append(list(SETTINGS))
    st.append(list(SETTINGS.values()))
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            longest = max((len(str(c.value or "")) for c in sheet[cell.column_letter]), default=8)
            sheet.column_dimensions[cell.column_letter].width = min(max(longest, 8) + 2, 60)
        sheet.freeze_panes = "A2"
    return wb


def write(path: str | Path = OUTPUT) -> Path:
    """Build the workbook and save it to ``path``; return the path."""
    path = Path(path)
    build_workbook().save(path)
    return path


if __name__ == "__main__":
    print(write(*sys.argv[1:2]))
