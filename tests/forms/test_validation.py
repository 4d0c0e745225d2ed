"""Checking answers against a questionnaire: types, relevance, required, constraints, choices, repeats."""

from __future__ import annotations

import datetime as dt

import pytest
from test_xlsform import make_form  # pytest puts this directory on sys.path (rootdir-relative test modules)

from digifit.demo.questionnaire import load_questionnaire
from digifit.forms import FieldError, check_answers, load_xlsform, validate_answers

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def q():
    return load_questionnaire()


def valid() -> dict:
    return {
        "panel_id": "P-0001",
        "country": "DE",
        "region": "de_by",
        "sector": "hospitality",
        "size": "small",
        "founded": 1998,
        "presence_before": ["website", "social_page"],
        "digital_share": "p25_49",
        "revenue_change": "dec1_24",
        "employment_change": "same",
        "closed": "yes",
        "closed_months": 3,
        "tools_since": ["online_shop", "video_calls"],
        "tool_detail": [
            {"tool": "online_shop", "tool_start": "2025-03-01", "tool_cost": 29.9, "tool_useful": "5"},
            {"tool": "video_calls", "tool_cost": "0"},
        ],
        "remote_staff": "sometimes",
        "collaboration": ["video", "chat"],
        "remote_stays": "partly",
        "support_needs": ["social_media", "storytelling"],
        "training_format": ["live_coaching"],
        "consent": "yes",
        "email": "laura@kekszauber.de",
    }


def check(q, answers, **kwargs):
    return check_answers(q, answers, today=TODAY, **kwargs)


def codes(result) -> dict[str, str]:
    return {e.field: e.code for e in result.errors}


def test_valid_submission(q):
    result = check(q, valid())
    assert result.errors == () and result.ok
    assert result.dropped == ()
    values = result.values
    assert values["founded"] == 1998 and values["closed_months"] == 3
    assert values["business_age"] == 28
    assert values["digital25"] == 1
    assert values["wave"] == "2026-1"  # the literal default of a hidden field
    assert values["tool_detail"][0] == {
        "tool": "online_shop",
        "tool_start": dt.date(2025, 3, 1),
        "tool_cost": 29.9,
        "tool_useful": "5",
    }
    assert values["tool_detail"][1] == {"tool": "video_calls", "tool_cost": 0.0}


def test_digital25_is_calculated_and_overrides_a_sent_value(q):
    for share, expected in [("none", 0), ("p10_24", 0), ("p25_49", 1), ("p50_74", 1), ("p75plus", 1)]:
        result = check(q, valid() | {"digital_share": share, "digital25": 7})
        assert result.values["digital25"] == expected


# ------------------------------------------------------------------------------------------- relevance


def test_required_only_when_relevant(q):
    not_closed = valid() | {"closed": "no"}
    del not_closed["closed_months"]
    assert check(q, not_closed).ok

    closed = valid()
    del closed["closed_months"]
    result = check(q, closed, language="en")
    assert result.errors == (FieldError("closed_months", "required", "This question requires an answer."),)


def test_answers_to_non_relevant_fields_are_dropped_or_refused(q):
    answers = valid() | {"closed": "no", "closed_months": 4}
    result = check(q, answers)
    assert result.ok and result.dropped == ("closed_months",)
    assert "closed_months" not in result.values

    refused = check(q, answers, non_relevant="fail", language="en")
    assert codes(refused) == {"closed_months": "not_relevant"}


def test_consent_no_drops_email(q):
    answers = valid() | {"consent": "no", "email": "not an address"}
    result = check(q, answers)
    assert result.ok and result.dropped == ("email",)


def test_required_message_from_the_form(q):
    answers = valid()
    del answers["email"]
    (error,) = validate_answers(q, answers, language="fr", today=TODAY)
    assert error.code == "required"
    assert error.message.startswith("Veuillez indiquer votre adresse e-mail")


def test_missing_everything_lists_the_required_questions(q):
    errors = validate_answers(q, {}, language="en", today=TODAY)
    assert {e.field for e in errors} == {
        "country",
        "region",
        "sector",
        "size",
        "founded",
        "presence_before",
        "digital_share",
        "revenue_change",
        "employment_change",
        "closed",
        "tools_since",
        "remote_staff",
        "support_needs",
        "consent",
    }
    assert {e.code for e in errors} == {"required"}


# ------------------------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Bitte eine gültige E-Mail-Adresse angeben, z. B. name@firma.de."),
        ("en", "Please enter a valid e-mail address, e.g. name@company.com."),
        ("fr", "Veuillez saisir une adresse e-mail valide, par ex. nom@entreprise.fr."),
        ("it", "Bitte eine gültige E-Mail-Adresse angeben, z. B. name@firma.de."),  # the form's default language
    ],
)
def test_constraint_message_in_the_requested_language(q, language, message):
    errors = validate_answers(q, valid() | {"email": "laura@kekszauber"}, language=language, today=TODAY)
    assert errors == [FieldError("email", "constraint", message)]


def test_constraint_uses_the_fields_own_value(q):
    assert codes(check(q, valid() | {"closed_months": 25})) == {"closed_months": "constraint"}
    assert check(q, valid() | {"closed_months": 24}).ok
    (error,) = validate_answers(q, valid() | {"founded": 2027}, language="en", today=TODAY)
    assert error == FieldError("founded", "constraint", "Please enter a year between 1800 and the current year.")
    assert validate_answers(q, valid() | {"founded": 2027}, today=dt.date(2027, 1, 1)) == []


def test_constraint_without_message_names_the_condition():
    form = make_form([("integer", "n", ("Zahl", "Number"), {"constraint": ". > 2"})])
    (error,) = validate_answers(load_xlsform(form), {"n": 1}, language="en")
    assert error == FieldError("n", "constraint", "The answer 1 does not meet the condition: . > 2")


# ------------------------------------------------------------------------------------------- choices


def test_select_multiple_accepts_lists_and_space_separated_strings(q):
    as_list = check(q, valid() | {"presence_before": ["website", "online_shop"]})
    as_text = check(q, valid() | {"presence_before": "website  online_shop"})
    assert as_list.ok and as_text.ok
    assert as_list.values["presence_before"] == as_text.values["presence_before"] == ["website", "online_shop"]


def test_select_multiple_unknown_choice_and_exclusive_none(q):
    errors = validate_answers(q, valid() | {"presence_before": ["website", "blog"]}, language="en", today=TODAY)
    assert errors == [
        FieldError(
            "presence_before",
            "choice",
            "'blog' is not a choice of this question "
            "(allowed: website, online_shop, social_page, marketplace, messaging, none).",
        )
    ]
    errors = validate_answers(q, valid() | {"presence_before": ["website", "none"]}, language="de", today=TODAY)
    assert errors == [
        FieldError("presence_before", "constraint", "»Keine« kann nicht zusammen mit anderen Antworten gewählt werden.")
    ]


def test_or_other_allows_other_and_its_text(q):
    answers = valid() | {"support_needs": ["financing", "other"], "support_needs_other": "Buchhaltung"}
    result = check(q, answers)
    assert result.ok
    assert result.values["support_needs"] == ["financing", "other"]
    assert result.values["support_needs_other"] == "Buchhaltung"

    without_other = check(q, valid() | {"support_needs_other": "Buchhaltung"})
    assert without_other.ok and without_other.dropped == ("support_needs_other",)


def test_other_is_refused_without_or_other(q):
    errors = validate_answers(q, valid() | {"sector": "pets"}, language="en", today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("sector", "choice")]
    errors = validate_answers(q, valid() | {"presence_before": ["other"]}, language="en", today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("presence_before", "choice")]


def test_or_other_on_a_list_without_other_choice():
    survey = [("select_one colour or_other", "colour", ("Farbe", "Colour"), {})]
    choices = [("colour", "red", ("Rot", "Red"))]
    q = load_xlsform(make_form(survey, choices))
    assert [c.name for c in q.choices["colour"]] == ["red", "other"]
    assert q.choices["colour"][1].label == {"de": "Sonstiges", "en": "Other"}
    assert check_answers(q, {"colour": "other", "colour_other": "teal"}).values == {
        "colour": "other",
        "colour_other": "teal",
    }


def test_choice_filter_region_by_country(q):
    assert check(q, valid() | {"country": "FR", "region": "fr_bre"}).ok
    errors = validate_answers(q, valid() | {"country": "FR"}, language="en", today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("region", "choice_filter")]
    assert errors[0].message.startswith("'de_by' does not fit the earlier answers (allowed: fr_auvergne_rhone_alpes")


def test_choice_filter_inside_a_repeat_reads_the_outer_answer(q):
    answers = valid() | {"tool_detail": [{"tool": "cloud"}]}
    result = check(q, answers, language="en")
    assert codes(result) == {"tool_detail[1]/tool": "choice_filter"}
    assert "(allowed: online_shop, video_calls)" in result.errors[0].message


def test_country_other_makes_region_not_relevant(q):
    answers = valid() | {"country": "other"}
    result = check(q, answers)
    assert result.ok and result.dropped == ("region",)


# ------------------------------------------------------------------------------------------- repeats


def test_repeat_errors_name_the_instance(q):
    answers = valid() | {
        "tool_detail": [
            {"tool": "online_shop", "tool_cost": -5},
            {"tool": "video_calls", "tool_start": "2027-01-01", "colour": "red"},
        ]
    }
    result = check(q, answers, language="en")
    assert [(e.field, e.code) for e in result.errors] == [
        ("tool_detail[1]/tool_cost", "constraint"),
        ("tool_detail[2]/colour", "unknown_field"),
        ("tool_detail[2]/tool_start", "constraint"),
    ]
    assert result.errors[0].message == "Cost cannot be negative."
    assert result.errors[2].message == "The date cannot be in the future."


def test_repeat_must_be_a_list_of_mappings(q):
    result = check(q, valid() | {"tool_detail": {"tool": "online_shop"}}, language="en")
    assert codes(result) == {"tool_detail": "repeat"}


def test_repeat_not_relevant_is_dropped(q):
    answers = valid() | {"tools_since": ["none"]}
    result = check(q, answers)
    assert result.ok and result.dropped == ("tool_detail",)
    assert "tool_detail" not in result.values


def test_required_inside_a_repeat(q):
    result = check(q, valid() | {"tool_detail": [{"tool_cost": 3}]}, language="en")
    assert codes(result) == {"tool_detail[1]/tool": "required"}


def test_calculation_over_a_repeat():
    survey = [
        ("begin repeat", "items", ("Posten", "Items"), {}),
        ("decimal", "cost", ("Kosten", "Cost"), {}),
        ("end repeat", None, None, {}),
        ("calculate", "total", None, {"calculation": "sum(${cost})"}),
        ("calculate", "n_items", None, {"calculation": "count(${items})"}),
        ("integer", "big", ("Groß", "Big"), {"relevant": "${total} > 100", "required": "yes"}),
    ]
    form = load_xlsform(make_form(survey))
    small = check_answers(form, {"items": [{"cost": 10}, {"cost": "20.5"}]})
    assert small.ok and small.values["total"] == 30.5 and small.values["n_items"] == 2
    large = check_answers(form, {"items": [{"cost": 90}, {"cost": 20}]}, language="en")
    assert codes(large) == {"big": "required"}


# ------------------------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("founded", "nineteen", "Expected a whole number, got 'nineteen'."),
        ("founded", 1998.5, "Expected a whole number, got 1998.5."),
        ("founded", True, "Expected a whole number, got True."),
        ("closed_months", "3,5", "Expected a whole number, got '3,5'."),
        ("email", {"address": "x"}, "Expected text, got {'address': 'x'}."),
        ("country", ["DE"], "Expected text, got ['DE']."),
        ("presence_before", 3, "Expected a list of choice names, got 3."),
    ],
)
def test_wrong_types_are_refused(q, field, value, message):
    result = check(q, valid() | {field: value}, language="en")
    assert result.errors[0] == FieldError(field, "type", message)
    assert not any(e.field == field and e.code == "required" for e in result.errors)


@pytest.mark.parametrize(
    ("value", "code"),
    [("29,90", "type"), ("1e400", "type"), ("nan", "type"), ("12.5", None), (7, None), ("-1", "constraint")],
)
def test_decimal_answers(q, value, code):
    result = check(q, valid() | {"tool_detail": [{"tool": "online_shop", "tool_cost": value}]})
    assert [e.code for e in result.errors] == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2025-02-28", True), (dt.date(2025, 2, 28), True), ("2025-02-30", False), ("28.02.2025", False)],
)
def test_date_answers(q, value, ok):
    result = check(q, valid() | {"tool_detail": [{"tool": "online_shop", "tool_start": value}]}, language="de")
    assert result.ok is ok
    if not ok:
        assert result.errors[0].message.startswith("Erwartet wird ein Datum JJJJ-MM-TT")


def test_numbers_arrive_as_strings(q):
    result = check(q, valid() | {"founded": " 1998 ", "closed_months": "3"})
    assert result.ok and result.values["founded"] == 1998 and result.values["closed_months"] == 3


def test_unknown_fields_and_groups(q):
    result = check(q, valid() | {"colour": "red", "profile": {"country": "DE"}}, language="en")
    assert result.errors == (
        FieldError("colour", "unknown_field", "The form has no field 'colour'."),
        FieldError("profile", "unknown_field", "'profile' is a group; answer its questions directly."),
    )


def test_bad_option_is_refused(q):
    with pytest.raises(ValueError, match="non_relevant must be 'drop' or 'fail', got 'keep'"):
        check(q, valid(), non_relevant="keep")
