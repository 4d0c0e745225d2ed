"""Fixtures for survey tests: XLSForms built in code, users of each role with API tokens, API clients."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import Workbook

SURVEY_HEADER = [
    "type",
    "name",
    "label::Deutsch (de)",
    "label::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Deutsch (de)",
    "constraint_message::English (en)",
    "calculation",
    "default",
]


def xlsform_bytes(
    *,
    version: str = "1",
    extra_field: bool = False,
    extra_choice: bool = False,
    broken: bool = False,
    form_id: str = "fob_test",
    grouped: bool = False,
    server_fields: bool = False,
) -> bytes:
    """Build a small German/English XLSForm: select_one, integer with constraint, select_multiple, decimal
    with relevance, a repeat and a note. ``extra_*`` make version 2 (a new field, a new choice)."""
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(SURVEY_HEADER)
    rows = [
        ["note", "intro", "Willkommen", "Welcome"],
        ["select_one country", "country", "Land", "Country", "yes"],
        ["integer", "employees", "Beschäftigte", "Employees", "yes", "", ". >= 0", "Nicht negativ", "Not negative"],
        ["select_multiple channels", "channels", "Kanäle", "Channels"],
        ["calculate", "big", "", "", "", "", "", "", "", "if(${employees} >= 20, 1, 0)"],
        ["calculate", "per_third", "", "", "", "", "", "", "", "${employees} div 3"],
        ["calculate", "tag", "", "", "", "", "", "", "", "concat('c-', ${country})"],
        ["decimal", "shop_share", "Anteil Shop", "Shop share", "", "selected(${channels}, 'shop')"],
        ["begin_repeat", "tools", "Werkzeuge", "Tools"],
        ["text", "tool_name", "Name", "Name", "yes"],
        ["integer", "tool_cost", "Kosten", "Cost"],
        ["end_repeat", "", "", ""],
    ]
    if grouped:  # the first questions in a group "company"
        rows.insert(1, ["begin_group", "company", "Unternehmen", "Company"])
        rows.insert(4, ["end_group", "", "", ""])
    if extra_field:
        rows.append(["text", "comment", "Kommentar", "Comment"])
    if server_fields:  # metadata a form carries with stale defaults; the server fills them
        blank = [""] * 8
        rows.append(["hidden", "wave", *blank, "2026-1"])
        rows.append(["hidden", "form_version", *blank, "0"])
        rows.append(["hidden", "instanceID", *blank, "uuid:00000000-0000-0000-0000-000000000000"])
        rows.append(["hidden", "received_at", *blank, "2020-01-01T00:00:00"])
    if broken:
        rows.append(["select_one nosuchlist", "bad", "Kaputt", "Broken"])
    for r in rows:
        survey.append(r)
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label::Deutsch (de)", "label::English (en)"])
    for r in [
        ["country", "DE", "Deutschland", "Germany"],
        ["country", "FR", "Frankreich", "France"],
        ["channels", "website", "Webseite", "Website"],
        ["channels", "shop", "Onlineshop", "Online shop"],
        ["channels", "social", "Soziale Medien", "Social media"],
    ]:
        choices.append(r)
    if extra_choice:
        choices.append(["channels", "marketplace", "Marktplatz", "Marketplace"])
    settings = wb.create_sheet("settings")
    settings.append(["form_id", "version", "form_title", "default_language"])
    settings.append([form_id, version, "FoB Test", "Deutsch (de)"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def answers(**overrides):
    data = {
        "country": "DE",
        "employees": 12,
        "channels": ["website", "shop"],
        "shop_share": 0.25,
        "tools": [{"tool_name": "CRM", "tool_cost": 30}, {"tool_name": "ERP"}],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def new_id() -> str:
    return str(uuid.uuid4())


class ApiClient:
    """A Django test client that sends a bearer token (or nothing) on every request."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, data=None, **kw):
        if "files" in kw:
            return self.client.post(url, data=kw.pop("files"), headers=self.headers, **kw)
        return self.client.post(url, data=data, content_type="application/json", headers=self.headers, **kw)

    def patch(self, url, data=None, **kw):
        return self.client.patch(url, data=data, content_type="application/json", headers=self.headers, **kw)


def login_as(client, role: str | None):
    """Log ``client`` in as a new user with ``role`` (None: no role) for the manager pages; return the user."""
    from django.contrib.auth import get_user_model

    from digifit.accounts.services import user_role_assign

    user = get_user_model().objects.create_user(username=f"u-{role}", password="pw-for-tests-1")
    if role:
        user_role_assign(user=user, role=role)
    client.force_login(user)
    return user


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    from digifit.accounts.services import token_create, user_role_assign

    def make(username: str, role: str | None = None, password: str = "pw-for-tests-1"):
        user = get_user_model().objects.create_user(username=username, password=password)
        if role:
            user_role_assign(user=user, role=role)
        _, raw = token_create(user=user, name="tests")
        return user, raw

    return make


@pytest.fixture
def manager(make_user, client):
    _user, raw = make_user("manager", "survey_manager")
    return ApiClient(client, raw)


@pytest.fixture
def analyst(make_user, client):
    _user, raw = make_user("analyst", "analyst")
    return ApiClient(client, raw)


@pytest.fixture
def nobody(make_user, client):
    _user, raw = make_user("nobody")
    return ApiClient(client, raw)


@pytest.fixture
def anonymous(client):
    return ApiClient(client, None)


def upload(api, content: bytes, name: str = "form.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post("/api/questionnaires", files={"file": SimpleUploadedFile(name, content)})


@pytest.fixture
def form_v1(manager):
    resp = upload(manager, xlsform_bytes(version="1"))
    assert resp.status_code == 201, resp.content
    return resp.json()


@pytest.fixture
def wave(manager, form_v1):
    resp = manager.post("/api/waves", {"form_id": "fob_test", "name": "2026-11", "status": "open"})
    assert resp.status_code == 201, resp.content
    return resp.json()
