"""Each refusal of the upload guard is one translated line on the questionnaire upload page, nothing is stored;
``DIGIFIT_UPLOAD_MAX_BYTES`` moves the size limit; the CLI says it in English."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape

from digifit.accounts.services import user_role_assign
from digifit.survey.models import Questionnaire, QuestionnaireVersion
from digifit.survey.upload_policy import MESSAGES, refusal_message, upload_limits
from digifit.uploads import UploadRefused, check_xlsx

from .test_xlsx_guard import HOSTILE, _zip


def _inflates_past_the_total(fh):  # many 1 MB parts: each below the ratio check, together over 100 MB
    fh.write(b" " * (1 << 20))


CORPUS = {
    **HOSTILE,
    "inflated": (
        lambda: _zip([(f"xl/media/p{i}.xml", _inflates_past_the_total) for i in range(101)]),
        {"inflated_too_large"},
    ),
    "corrupt": (lambda: _zip([("xl/workbook.xml", b"<workbook><sheets></workbook>")]), {"corrupt"}),
}


@pytest.fixture
def manager(client, db):
    user = get_user_model().objects.create_user(username="manager", password="pw-for-tests-1")
    user_role_assign(user=user, role="survey_manager")
    client.force_login(user)
    return client


def test_every_code_of_the_guard_has_a_german_and_french_message():
    codes = set().union(*(codes for _, codes in CORPUS.values()))
    assert codes <= set(MESSAGES)
    for code, text in MESSAGES.items():
        with translation.override("en"):
            english = str(text)
        for language in ("de", "fr"):
            with translation.override(language):
                assert str(text) != english, (code, language)


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_hostile_file_is_refused_on_the_upload_page_in_german(manager, kind):
    build, codes = CORPUS[kind]
    data = build()
    with pytest.raises(UploadRefused) as refused:
        check_xlsx(data, upload_limits())
    assert refused.value.code in codes
    with translation.override("de"):
        expected = refusal_message(refused.value)
    with translation.override("en"):
        assert refusal_message(refused.value) != expected  # it is German, not the English source
    page = manager.post("/surveys/", {"file": SimpleUploadedFile("form.xlsx", data)}, headers={"Accept-Language": "de"})
    assert page.status_code == 200
    html = page.content.decode()
    assert escape(expected) in html
    assert "Traceback" not in html and "cannot read the workbook" not in html
    assert not Questionnaire.objects.exists() and not QuestionnaireVersion.objects.exists()


def test_the_size_limit_follows_the_setting(manager, settings):
    from survey.conftest import xlsform_bytes

    data = xlsform_bytes()
    settings.DIGIFIT_UPLOAD_MAX_BYTES = len(data) - 1
    page = manager.post("/surveys/", {"file": SimpleUploadedFile("f.xlsx", data)}, headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert "Die Datei ist größer als" in page.content.decode()
    assert not QuestionnaireVersion.objects.exists()
    settings.DIGIFIT_UPLOAD_MAX_BYTES = len(data)
    stored = manager.post("/surveys/", {"file": SimpleUploadedFile("f.xlsx", data)})
    assert stored.status_code == 302 and QuestionnaireVersion.objects.count() == 1
    settings.DIGIFIT_UPLOAD_MAX_BYTES = 12 * 1024 * 1024  # above the default: an 11 MB file passes the size check
    with pytest.raises(UploadRefused) as refused:
        check_xlsx(b"PK\x03\x04" + b"\0" * (11 * 2**20), upload_limits())
    assert refused.value.code == "not_xlsx"


def test_the_cli_says_it_in_english(tmp_path, db, monkeypatch):
    from click.testing import CliRunner

    from digifit.cli import main

    monkeypatch.delenv("LANGUAGE", raising=False)
    path = tmp_path / "slip.xlsx"
    path.write_bytes(_zip([("xl/../../x", b"x")]))
    result = CliRunner().invoke(main, ["questionnaire", "add", str(path)])
    assert result.exit_code == 2
    assert "unsafe file path" in result.output and "Save it again as .xlsx" in result.output
    monkeypatch.setenv("LANGUAGE", "de_DE:de")
    german = CliRunner().invoke(main, ["questionnaire", "add", str(path)])
    assert german.exit_code == 2 and "unsichere" in german.output
