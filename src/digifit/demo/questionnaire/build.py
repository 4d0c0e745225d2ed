"""Build the bundled XLSForm ``future_of_business.xlsx`` from the tables below.

The questionnaire follows the spirit of the Future of Business Survey (Facebook, OECD and World Bank): how
small and medium-sized businesses stood online before the crisis, what share of revenue they make through
digital channels (the headline: "at least 25 %"), how the crisis hit them, what they adopted since, and what
support they want. German is the default language; English and French are complete translations.

The spreadsheet is generated so that it can be reviewed as code. Rebuild it after editing this file::

    python -m digifit.demo.questionnaire.build            # writes next to this file
    python -m digifit.demo.questionnaire.build out.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

LANGUAGES = ("Deutsch (de)", "English (en)", "Français (fr)")
FORM_ID = "future_of_business"
VERSION = "2026.1"
OUTPUT = Path(__file__).with_name(f"{FORM_ID}.xlsx")

T = tuple[str, str, str]  # the same text in de, en, fr

EMAIL_REGEX = r"regex(., '^[^@\s]+@[^@\s]+\.[^@\s]{2,}$')"
NONE_ALONE = "not(selected(., 'none') and count-selected(.) > 1)"
NONE_ALONE_MSG: T = (
    "»Keine« kann nicht zusammen mit anderen Antworten gewählt werden.",
    '"None" cannot be combined with other answers.',
    "« Aucun » ne peut pas être combiné avec d'autres réponses.",
)

# --------------------------------------------------------------------------------------------------------
# survey sheet: (type, name, label, extra columns); extra keys ending in "!" hold translations (T)

SURVEY: list[tuple[str, str, T | None, dict[str, object]]] = [
    ("start", "started", None, {}),
    ("end", "finished", None, {}),
    ("hidden", "panel_id", None, {}),
    ("hidden", "wave", None, {"default": "2026-1"}),
    (
        "note",
        "intro",
        (
            "Diese Befragung dauert etwa 10 Minuten. Ihre Antworten werden vertraulich behandelt und nur "
            "zusammengefasst ausgewertet.",
            "This survey takes about 10 minutes. Your answers are confidential and only reported in aggregate.",
            "Ce questionnaire prend environ 10 minutes. Vos réponses sont confidentielles "
            "et ne sont publiées que sous forme agrégée.",
        ),
        {},
    ),
    # ---------------------------------------------------------------- page 1: business profile
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
        {"required": "yes"},
    ),
    (
        "select_one region",
        "region",
        (
            "In welcher Region liegt der Hauptsitz?",
            "In which region is the head office?",
            "Dans quelle région se trouve le siège ?",
        ),
        {"required": "yes", "relevant": "${country} != 'other'", "choice_filter": "country = ${country}"},
    ),
    (
        "select_one sector",
        "sector",
        (
            "In welcher Branche ist Ihr Unternehmen hauptsächlich tätig?",
            "What is your main sector?",
            "Quel est votre secteur d'activité principal ?",
        ),
        {"required": "yes"},
    ),
    (
        "select_one size",
        "size",
        (
            "Wie viele Personen beschäftigt Ihr Unternehmen?",
            "How many people does your business employ?",
            "Combien de personnes votre entreprise emploie-t-elle ?",
        ),
        {
            "required": "yes",
            "hint!": (
                "Einschließlich Inhaberinnen und Inhaber, Teilzeitkräfte zählen anteilig.",
                "Including owners; count part-time staff pro rata.",
                "Propriétaires compris ; les temps partiels comptent au prorata.",
            ),
        },
    ),
    (
        "integer",
        "founded",
        (
            "In welchem Jahr wurde Ihr Unternehmen gegründet?",
            "In which year was your business founded?",
            "En quelle année votre entreprise a-t-elle été créée ?",
        ),
        {
            "required": "yes",
            "constraint": ". >= 1800 and . <= number(format-date(today(), '%Y'))",
            "constraint_message!": (
                "Bitte ein Jahr zwischen 1800 und dem laufenden Jahr angeben.",
                "Please enter a year between 1800 and the current year.",
                "Veuillez indiquer une année entre 1800 et l'année en cours.",
            ),
        },
    ),
    (
        "calculate",
        "business_age",
        None,
        {"calculation": "number(format-date(today(), '%Y')) - ${founded}"},
    ),
    ("end group", "", None, {}),
    # ---------------------------------------------------------------- page 2: online presence
    (
        "begin group",
        "presence",
        (
            "Online-Präsenz vor der Krise",
            "Online presence before the crisis",
            "Présence en ligne avant la crise",
        ),
        {"appearance": "field-list"},
    ),
    (
        "select_multiple presence",
        "presence_before",
        (
            "Was hatte Ihr Unternehmen schon vor der Krise?",
            "What did your business have before the crisis?",
            "De quoi votre entreprise disposait-elle déjà avant la crise ?",
        ),
        {
            "required": "yes",
            "constraint": NONE_ALONE,
            "constraint_message!": NONE_ALONE_MSG,
            "hint!": (
                "Mehrfachnennungen möglich.",
                "Select all that apply.",
                "Plusieurs réponses possibles.",
            ),
        },
    ),
    (
        "select_one share",
        "digital_share",
        (
            "Welcher Anteil Ihres Umsatzes wurde in den letzten 12 Monaten über digitale Kanäle erzielt?",
            "What share of your revenue in the last 12 months came through digital channels?",
            "Quelle part de votre chiffre d'affaires des 12 derniers mois provient des canaux numériques ?",
        ),
        {
            "required": "yes",
            "hint!": (
                "Digitale Kanäle: eigener Online-Shop, Marktplätze, soziale Medien, Messenger, E-Mail-Bestellungen.",
                "Digital channels: own online shop, marketplaces, social media, messaging, e-mail orders.",
                "Canaux numériques : boutique en ligne, places de marché, réseaux sociaux, messageries, "
                "commandes par e-mail.",
            ),
        },
    ),
    (
        "calculate",
        "digital25",
        None,
        {
            "calculation": "if(${digital_share} = 'p25_49' or ${digital_share} = 'p50_74' "
            "or ${digital_share} = 'p75plus', 1, 0)"
        },
    ),
    ("end group", "", None, {}),
    # ---------------------------------------------------------------- page 3: impact of the crisis
    (
        "begin group",
        "impact",
        ("Auswirkungen der Krise", "Impact of the crisis", "Effets de la crise"),
        {"appearance": "field-list"},
    ),
    (
        "select_one revenue_change",
        "revenue_change",
        (
            "Wie hat sich Ihr Umsatz im Vergleich zum Vorjahr entwickelt?",
            "How did your revenue change compared with the previous year?",
            "Comment votre chiffre d'affaires a-t-il évolué par rapport à l'année précédente ?",
        ),
        {"required": "yes"},
    ),
    (
        "select_one employment_change",
        "employment_change",
        (
            "Wie hat sich die Zahl Ihrer Beschäftigten entwickelt?",
            "How did the number of people you employ change?",
            "Comment le nombre de vos salariés a-t-il évolué ?",
        ),
        {"required": "yes"},
    ),
    (
        "select_one yesno",
        "closed",
        (
            "Musste Ihr Unternehmen vorübergehend schließen?",
            "Did your business have to close temporarily?",
            "Votre entreprise a-t-elle dû fermer temporairement ?",
        ),
        {"required": "yes"},
    ),
    (
        "integer",
        "closed_months",
        (
            "Wie viele Monate insgesamt?",
            "For how many months in total?",
            "Pendant combien de mois au total ?",
        ),
        {
            "required": "yes",
            "relevant": "${closed} = 'yes'",
            "constraint": ". >= 1 and . <= 24",
            "constraint_message!": (
                "Bitte eine Zahl zwischen 1 und 24 angeben.",
                "Please enter a number between 1 and 24.",
                "Veuillez indiquer un nombre entre 1 et 24.",
            ),
        },
    ),
    ("end group", "", None, {}),
    # ---------------------------------------------------------------- page 4: digital tools since the crisis
    (
        "begin group",
        "adoption",
        (
            "Digitale Werkzeuge seit der Krise",
            "Digital tools since the crisis",
            "Outils numériques depuis la crise",
        ),
        {},
    ),
    (
        "select_multiple tool",
        "tools_since",
        (
            "Welche digitalen Werkzeuge hat Ihr Unternehmen seit Beginn der Krise neu eingeführt?",
            "Which digital tools has your business adopted since the crisis began?",
            "Quels outils numériques votre entreprise a-t-elle adoptés depuis le début de la crise ?",
        ),
        {"required": "yes", "constraint": NONE_ALONE, "constraint_message!": NONE_ALONE_MSG},
    ),
    (
        "begin repeat",
        "tool_detail",
        ("Angaben je Werkzeug", "Details per tool", "Détails par outil"),
        {"relevant": "not(selected(${tools_since}, 'none'))"},
    ),
    (
        "select_one tool",
        "tool",
        ("Werkzeug", "Tool", "Outil"),
        {"required": "yes", "choice_filter": "selected(${tools_since}, name)"},
    ),
    (
        "date",
        "tool_start",
        ("Seit wann nutzen Sie es?", "Since when have you used it?", "Depuis quand l'utilisez-vous ?"),
        {
            "constraint": ". <= today()",
            "constraint_message!": (
                "Das Datum darf nicht in der Zukunft liegen.",
                "The date cannot be in the future.",
                "La date ne peut pas être dans le futur.",
            ),
        },
    ),
    (
        "decimal",
        "tool_cost",
        (
            "Monatliche Kosten in Euro (ungefähr)",
            "Monthly cost in euros (approximately)",
            "Coût mensuel en euros (environ)",
        ),
        {
            "constraint": ". >= 0",
            "constraint_message!": (
                "Kosten können nicht negativ sein.",
                "Cost cannot be negative.",
                "Le coût ne peut pas être négatif.",
            ),
        },
    ),
    (
        "select_one usefulness",
        "tool_useful",
        (
            "Wie nützlich ist es für Ihr Geschäft?",
            "How useful is it for your business?",
            "Quelle est son utilité pour votre activité ?",
        ),
        {"appearance": "likert"},
    ),
    ("end repeat", "", None, {}),
    (
        "select_one remote",
        "remote_staff",
        (
            "Wie oft arbeiten Ihre Beschäftigten mobil oder im Homeoffice?",
            "How often do your staff work remotely?",
            "À quelle fréquence vos salariés travaillent-ils à distance ?",
        ),
        {"required": "yes"},
    ),
    (
        "select_multiple collaboration",
        "collaboration",
        (
            "Wie arbeiten Sie digital mit Beschäftigten und Kunden zusammen?",
            "How do you collaborate digitally with staff and customers?",
            "Comment collaborez-vous en ligne avec vos salariés et vos clients ?",
        ),
        {"constraint": NONE_ALONE, "constraint_message!": NONE_ALONE_MSG},
    ),
    (
        "select_one expectation",
        "remote_stays",
        (
            "Wird die Arbeit außerhalb des Büros nach der Krise bleiben?",
            "Will working outside the office stay after the crisis?",
            "Le travail hors du bureau restera-t-il après la crise ?",
        ),
        {},
    ),
    ("end group", "", None, {}),
    # ---------------------------------------------------------------- page 5: support needs
    (
        "begin group",
        "needs",
        ("Unterstützung und Training", "Support and training", "Accompagnement et formation"),
        {"appearance": "field-list"},
    ),
    (
        "select_multiple need or_other",
        "support_needs",
        (
            "Wobei wünschen Sie sich Unterstützung?",
            "Where would you like support?",
            "Dans quels domaines souhaitez-vous être accompagné ?",
        ),
        {"required": "yes", "constraint": NONE_ALONE, "constraint_message!": NONE_ALONE_MSG},
    ),
    (
        "select_multiple format",
        "training_format",
        (
            "Welche Trainingsformate passen zu Ihnen?",
            "Which training formats suit you?",
            "Quels formats de formation vous conviennent ?",
        ),
        {"relevant": "not(selected(${support_needs}, 'none'))"},
    ),
    ("end group", "", None, {}),
    # ---------------------------------------------------------------- page 6: contact
    ("begin group", "contact", ("Kontakt", "Contact", "Contact"), {"appearance": "field-list"}),
    (
        "select_one yesno",
        "consent",
        (
            "Dürfen wir Sie zu Trainings und zur nächsten Befragungswelle kontaktieren?",
            "May we contact you about trainings and the next survey wave?",
            "Pouvons-nous vous contacter au sujet des formations et de la prochaine vague d'enquête ?",
        ),
        {"required": "yes"},
    ),
    (
        "text",
        "email",
        ("E-Mail-Adresse", "E-mail address", "Adresse e-mail"),
        {
            "required": "yes",
            "relevant": "${consent} = 'yes'",
            "constraint": EMAIL_REGEX,
            "constraint_message!": (
                "Bitte eine gültige E-Mail-Adresse angeben, z. B. name@firma.de.",
                "Please enter a valid e-mail address, e.g. name@company.com.",
                "Veuillez saisir une adresse e-mail valide, par ex. nom@entreprise.fr.",
            ),
            "required_message!": (
                "Bitte geben Sie Ihre E-Mail-Adresse an oder verneinen Sie die Kontaktfrage.",
                'Please give your e-mail address or answer "no" to the contact question.',
                "Veuillez indiquer votre adresse e-mail ou répondre « non » à la question de contact.",
            ),
        },
    ),
    ("end group", "", None, {}),
    (
        "note",
        "thanks",
        ("Vielen Dank für Ihre Teilnahme!", "Thank you for taking part!", "Merci de votre participation !"),
        {},
    ),
]

# --------------------------------------------------------------------------------------------------------
# choices sheet: list_name -> [(name, (de, en, fr), extra columns)]


def _same(text: str) -> T:
    return (text, text, text)


REGIONS: dict[str, list[str | tuple[str, T]]] = {
    "DE": [
        "Baden-Württemberg",
        ("by", ("Bayern", "Bavaria", "Bavière")),
        "Berlin",
        "Brandenburg",
        "Bremen",
        "Hamburg",
        ("he", ("Hessen", "Hesse", "Hesse")),
        "Mecklenburg-Vorpommern",
        ("ni", ("Niedersachsen", "Lower Saxony", "Basse-Saxe")),
        ("nw", ("Nordrhein-Westfalen", "North Rhine-Westphalia", "Rhénanie-du-Nord-Westphalie")),
        ("rp", ("Rheinland-Pfalz", "Rhineland-Palatinate", "Rhénanie-Palatinat")),
        "Saarland",
        ("sn", ("Sachsen", "Saxony", "Saxe")),
        ("st", ("Sachsen-Anhalt", "Saxony-Anhalt", "Saxe-Anhalt")),
        "Schleswig-Holstein",
        ("th", ("Thüringen", "Thuringia", "Thuringe")),
    ],
    "FR": [
        "Auvergne-Rhône-Alpes",
        "Bourgogne-Franche-Comté",
        ("bre", ("Bretagne", "Brittany", "Bretagne")),
        "Centre-Val de Loire",
        ("cor", ("Korsika", "Corsica", "Corse")),
        "Grand Est",
        "Hauts-de-France",
        "Île-de-France",
        ("nor", ("Normandie", "Normandy", "Normandie")),
        "Nouvelle-Aquitaine",
        "Occitanie",
        "Pays de la Loire",
        "Provence-Alpes-Côte d'Azur",
        ("om", ("Überseegebiete", "Overseas", "Outre-mer")),
    ],
    "UK": [
        ("eng", ("England", "England", "Angleterre")),
        ("sco", ("Schottland", "Scotland", "Écosse")),
        ("wal", ("Wales", "Wales", "Pays de Galles")),
        ("nir", ("Nordirland", "Northern Ireland", "Irlande du Nord")),
    ],
    "IT": [
        ("itc", ("Nordwesten", "North-West", "Nord-Ouest")),
        ("ith", ("Nordosten", "North-East", "Nord-Est")),
        ("iti", ("Mitte", "Centre", "Centre")),
        ("itf", ("Süden", "South", "Sud")),
        ("itg", ("Inseln", "Islands", "Îles")),
    ],
    "ES": [
        ("es1", ("Nordwesten", "North-West", "Nord-Ouest")),
        ("es2", ("Nordosten", "North-East", "Nord-Est")),
        ("es3", ("Madrid", "Madrid", "Madrid")),
        ("es4", ("Mitte", "Centre", "Centre")),
        ("es5", ("Osten", "East", "Est")),
        ("es6", ("Süden", "South", "Sud")),
        ("es7", ("Kanarische Inseln", "Canary Islands", "Îles Canaries")),
    ],
    "PL": [
        ("pl2", ("Süden", "South", "Sud")),
        ("pl4", ("Nordwesten", "North-West", "Nord-Ouest")),
        ("pl5", ("Südwesten", "South-West", "Sud-Ouest")),
        ("pl6", ("Norden", "North", "Nord")),
        ("pl7", ("Mitte", "Centre", "Centre")),
        ("pl8", ("Osten", "East", "Est")),
        ("pl9", ("Woiwodschaft Masowien", "Masovian Voivodeship", "Voïvodie de Mazovie")),
    ],
}


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ô": "o", "Î": "I"})
    out = "".join(c if c.isalnum() else "_" for c in text.translate(table).lower())
    return "_".join(part for part in out.split("_") if part)


def _regions() -> list[tuple[str, T, dict[str, str]]]:
    rows = []
    for country, regions in REGIONS.items():
        for region in regions:
            name, label = region if isinstance(region, tuple) else (_slug(region), _same(region))
            rows.append((f"{country.lower()}_{name}", label, {"country": country}))
    return rows


CHOICES: dict[str, list[tuple[str, T, dict[str, str]]]] = {
    "yesno": [("yes", ("Ja", "Yes", "Oui"), {}), ("no", ("Nein", "No", "Non"), {})],
    "country": [
        ("DE", ("Deutschland", "Germany", "Allemagne"), {}),
        ("FR", ("Frankreich", "France", "France"), {}),
        ("UK", ("Vereinigtes Königreich", "United Kingdom", "Royaume-Uni"), {}),
        ("IT", ("Italien", "Italy", "Italie"), {}),
        ("ES", ("Spanien", "Spain", "Espagne"), {}),
        ("PL", ("Polen", "Poland", "Pologne"), {}),
        ("other", ("Anderes Land", "Another country", "Autre pays"), {}),
    ],
    "region": _regions(),
    "sector": [
        ("travel", ("Reise und Tourismus", "Travel and tourism", "Voyage et tourisme"), {}),
        (
            "hospitality",
            ("Gastronomie und Beherbergung", "Food service and accommodation", "Restauration et hébergement"),
            {},
        ),
        ("retail", ("Handel", "Retail and wholesale", "Commerce"), {}),
        (
            "manufacturing",
            ("Herstellung und Handwerk", "Manufacturing and crafts", "Industrie et artisanat"),
            {},
        ),
        ("construction", ("Bau", "Construction", "Construction"), {}),
        ("transport", ("Transport und Logistik", "Transport and logistics", "Transport et logistique"), {}),
        (
            "ict",
            (
                "Information und Kommunikation",
                "Information and communication",
                "Information et communication",
            ),
            {},
        ),
        (
            "professional",
            (
                "Freiberufliche und unternehmensnahe Dienste",
                "Professional and business services",
                "Services professionnels et aux entreprises",
            ),
            {},
        ),
        ("health", ("Gesundheit und Soziales", "Health and social care", "Santé et action sociale"), {}),
        ("other", ("Andere Branche", "Other sector", "Autre secteur"), {}),
    ],
    "size": [
        ("micro", ("0–9 Beschäftigte", "0–9 employees", "0 à 9 salariés"), {}),
        ("small", ("10–49 Beschäftigte", "10–49 employees", "10 à 49 salariés"), {}),
        ("medium", ("50–249 Beschäftigte", "50–249 employees", "50 à 249 salariés"), {}),
        ("large", ("250 und mehr Beschäftigte", "250 employees or more", "250 salariés ou plus"), {}),
    ],
    "presence": [
        ("website", ("Eigene Website", "Own website", "Site web"), {}),
        ("online_shop", ("Online-Shop", "Online shop", "Boutique en ligne"), {}),
        (
            "social_page",
            ("Seite in sozialen Medien", "Social-media page", "Page sur les réseaux sociaux"),
            {},
        ),
        (
            "marketplace",
            (
                "Angebot auf Online-Marktplätzen",
                "Listing on online marketplaces",
                "Présence sur des places de marché",
            ),
            {},
        ),
        (
            "messaging",
            ("Kontakt zu Kunden per Messenger", "Messaging with customers", "Messagerie avec les clients"),
            {},
        ),
        ("none", ("Nichts davon", "None of these", "Aucun"), {}),
    ],
    "share": [
        ("none", ("Nichts", "None", "Aucune"), {}),
        ("lt10", ("Weniger als 10 %", "Less than 10%", "Moins de 10 %"), {}),
        ("p10_24", ("10–24 %", "10–24%", "10 à 24 %"), {}),
        ("p25_49", ("25–49 %", "25–49%", "25 à 49 %"), {}),
        ("p50_74", ("50–74 %", "50–74%", "50 à 74 %"), {}),
        ("p75plus", ("75 % und mehr", "75% or more", "75 % ou plus"), {}),
    ],
    "revenue_change": [
        (
            "dec50",
            ("Um mehr als die Hälfte gesunken", "Fell by more than half", "Baisse de plus de moitié"),
            {},
        ),
        ("dec25_50", ("Um 25–50 % gesunken", "Fell by 25–50%", "Baisse de 25 à 50 %"), {}),
        ("dec1_24", ("Um weniger als 25 % gesunken", "Fell by less than 25%", "Baisse de moins de 25 %"), {}),
        ("same", ("Etwa gleich geblieben", "About the same", "À peu près stable"), {}),
        (
            "inc1_24",
            ("Um weniger als 25 % gestiegen", "Rose by less than 25%", "Hausse de moins de 25 %"),
            {},
        ),
        ("inc25", ("Um 25 % oder mehr gestiegen", "Rose by 25% or more", "Hausse de 25 % ou plus"), {}),
        ("dk", ("Weiß nicht", "Don't know", "Je ne sais pas"), {}),
    ],
    "employment_change": [
        ("decreased", ("Weniger Beschäftigte", "Fewer people", "Moins de salariés"), {}),
        ("same", ("Gleich viele", "The same", "Autant"), {}),
        ("increased", ("Mehr Beschäftigte", "More people", "Plus de salariés"), {}),
        ("dk", ("Weiß nicht", "Don't know", "Je ne sais pas"), {}),
    ],
    "tool": [
        ("online_shop", ("Online-Shop", "Online shop", "Boutique en ligne"), {}),
        (
            "social_ads",
            ("Werbung in sozialen Medien", "Social-media advertising", "Publicité sur les réseaux sociaux"),
            {},
        ),
        (
            "messaging",
            (
                "Messenger für Bestellungen und Service",
                "Messaging for orders and service",
                "Messagerie pour commandes et service",
            ),
            {},
        ),
        ("video_calls", ("Videoberatung", "Video consultations", "Conseil par vidéo"), {}),
        ("payments", ("Online-Bezahlung", "Online payment", "Paiement en ligne"), {}),
        (
            "delivery",
            (
                "Liefer- oder Buchungsplattform",
                "Delivery or booking platform",
                "Plateforme de livraison ou de réservation",
            ),
            {},
        ),
        ("cloud", ("Cloud-Büroanwendungen", "Cloud office tools", "Outils bureautiques en ligne"), {}),
        ("none", ("Keine neuen Werkzeuge", "No new tools", "Aucun nouvel outil"), {}),
    ],
    "usefulness": [
        ("1", ("Gar nicht nützlich", "Not useful at all", "Pas du tout utile"), {}),
        ("2", ("Wenig nützlich", "Slightly useful", "Peu utile"), {}),
        ("3", ("Teils, teils", "Moderately useful", "Moyennement utile"), {}),
        ("4", ("Nützlich", "Useful", "Utile"), {}),
        ("5", ("Sehr nützlich", "Very useful", "Très utile"), {}),
    ],
    "remote": [
        ("never", ("Nie", "Never", "Jamais"), {}),
        ("sometimes", ("Gelegentlich", "Sometimes", "Parfois"), {}),
        ("often", ("Häufig", "Often", "Souvent"), {}),
        ("always", ("Immer", "Always", "Toujours"), {}),
        ("no_staff", ("Keine Beschäftigten", "No staff", "Pas de salariés"), {}),
    ],
    "collaboration": [
        ("video", ("Videokonferenzen", "Video calls", "Visioconférences"), {}),
        ("chat", ("Team-Chat", "Team chat", "Messagerie d'équipe"), {}),
        (
            "shared_docs",
            ("Gemeinsame Online-Dokumente", "Shared online documents", "Documents partagés en ligne"),
            {},
        ),
        (
            "customer_messaging",
            (
                "Kundenkontakt per Messenger oder sozialen Medien",
                "Customer contact via messaging or social media",
                "Contact client par messagerie ou réseaux sociaux",
            ),
            {},
        ),
        ("none", ("Nichts davon", "None of these", "Aucun"), {}),
    ],
    "expectation": [
        ("yes", ("Ja, weitgehend", "Yes, largely", "Oui, largement"), {}),
        ("partly", ("Teilweise", "Partly", "En partie"), {}),
        ("no", ("Nein", "No", "Non"), {}),
    ],
    "need": [
        ("social_media", ("Soziale Medien nutzen", "Using social media", "Utiliser les réseaux sociaux"), {}),
        (
            "online_shop",
            ("Online-Shop aufbauen", "Setting up an online shop", "Créer une boutique en ligne"),
            {},
        ),
        ("online_ads", ("Online-Werbung", "Online advertising", "Publicité en ligne"), {}),
        (
            "storytelling",
            ("Storytelling und Markenauftritt", "Storytelling and brand", "Storytelling et image de marque"),
            {},
        ),
        (
            "messaging",
            (
                "Kundenservice per Messenger",
                "Customer service via messaging",
                "Service client par messagerie",
            ),
            {},
        ),
        (
            "data_protection",
            (
                "Datenschutz und IT-Sicherheit",
                "Data protection and IT security",
                "Protection des données et sécurité informatique",
            ),
            {},
        ),
        (
            "financing",
            ("Finanzierung der Digitalisierung", "Financing digitalisation", "Financer la numérisation"),
            {},
        ),
        ("none", ("Kein Bedarf", "No need", "Aucun besoin"), {}),
        ("other", ("Sonstiges", "Other", "Autre"), {}),
    ],
    "format": [
        (
            "live_coaching",
            ("Live-Coaching (dienstags)", "Live coaching (Tuesdays)", "Coaching en direct (le mardi)"),
            {},
        ),
        (
            "online_course",
            ("Online-Kurs zum Selbstlernen", "Self-paced online course", "Cours en ligne à son rythme"),
            {},
        ),
        ("workshop", ("Workshop vor Ort", "In-person workshop", "Atelier en présentiel"), {}),
        ("videos", ("Kurze Videos", "Short videos", "Courtes vidéos"), {}),
    ],
}

SETTINGS = {
    "form_title": "Zukunft des Mittelstands – Digitalisierung in der Krise",
    "form_id": FORM_ID,
    "version": VERSION,
    "default_language": LANGUAGES[0],
    "style": "pages",
}


def build_workbook():
    """Return the questionnaire as an ``openpyxl.Workbook`` (survey, choices and settings sheets)."""
    import openpyxl
    from openpyxl.styles import Font

    translated = ("label", "hint", "constraint_message", "required_message")
    plain = (
        "required",
        "relevant",
        "constraint",
        "calculation",
        "choice_filter",
        "appearance",
        "default",
        "parameters",
    )
    survey_headers = ["type", "name"]
    for base in translated:
        survey_headers += [f"{base}::{lang}" for lang in LANGUAGES]
    survey_headers += list(plain)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(survey_headers)
    for type_, name, label, extra in SURVEY:
        row: dict[str, object] = {"type": type_, "name": name}
        texts = {"label": label} | {k[:-1]: v for k, v in extra.items() if k.endswith("!")}
        for base, values in texts.items():
            if values:
                row.update({f"{base}::{lang}": text for lang, text in zip(LANGUAGES, values, strict=True)})
        row.update({k: v for k, v in extra.items() if not k.endswith("!")})
        unknown = set(row) - set(survey_headers)
        if unknown:
            raise ValueError(f"survey row {name!r}: columns {sorted(unknown)} are not in the header")
        ws.append([row.get(h) or None for h in survey_headers])

    filter_columns = sorted({k for items in CHOICES.values() for _n, _l, extra in items for k in extra})
    choice_headers = ["list_name", "name", *(f"label::{lang}" for lang in LANGUAGES), *filter_columns]
    wc = wb.create_sheet("choices")
    wc.append(choice_headers)
    for list_name, items in CHOICES.items():
        for name, label, extra in items:
            wc.append([list_name, name, *label, *(extra.get(c) for c in filter_columns)])

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
