"""ODK's own engine as a real client of every XForm digifit serves over OpenRosa.

ODK Web Forms' engine (npm ``@getodk/xforms-engine``, headless in Node under jsdom) loads each XForm, is filled
in step by step as a person would fill the form (relevance, constraints and choice filters are the engine's,
checked against what the XLSForm says), serialises its instance as ODK Web Forms submits it, and that
instance goes to ``/openrosa/submission`` as ODK Collect sends it (multipart, ``xml_submission_file``, HTTP
Basic). The answers stored must be the answers given, no more and no fewer.

The forms: the bundled questionnaire (its XLSForm file), the Digital-Check's instrument, the example form of
:mod:`digifit.forms`, and the forms the test suite uploads (``xlsform_bytes`` and its variants). One Node
process runs every form (``xforms_engine_client.mjs``); the test fails, never skips, without Node or the
npm packages (``make test`` installs them with ``npm ci``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from digifit.assessment.content import BUNDLED_DIR, FORM_FILE
from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.forms import EXAMPLE_FORM
from digifit.survey import formdef
from digifit.survey.models import Submission

from .conftest import upload, xlsform_bytes
from .test_openrosa import RESPONSE_NS, XFORMS_NS, openrosa_headers, post_submission

CLIENT = Path(__file__).with_name("xforms_engine_client.mjs")
TODAY = dt.date.today()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
#: what a ``start``/``end`` preload holds: an ISO 8601 date-time with milliseconds and offset
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def fill(ref: str, value: Any) -> dict[str, Any]:
    """A step setting an answer: a list is a select's choices, anything else an input's text."""
    if isinstance(value, list):
        return {"select": ref, "values": value}
    return {"set": ref, "value": str(value)}


def expect(ref: str, **state: Any) -> dict[str, Any]:
    """A step reading a node's state in the engine; ``state`` is what it must be (``relevant=False`` ...)."""
    return {"probe": ref, "expect": state}


def add_repeat(ref: str) -> dict[str, Any]:
    return {"add_repeat": ref}


def violated(message: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"constraint_valid": False}
    if message is not None:
        state["violation"] = {"condition": "constraint", "message": message}
    return state


VALID = {"constraint_valid": True, "violation": None}


@dataclass(frozen=True)
class Case:
    """One XLSForm, the steps filling it in the engine, and the answers digifit must store."""

    name: str
    xlsx: bytes
    steps: list[dict[str, Any]]
    stored: dict[str, Any]
    #: stored answers whose value the client makes up (start/end time stamps): present, in this shape
    timestamps: tuple[str, ...] = ()
    #: stored answers the server sets over the client's (``digifit.survey.server_fields``)
    server: tuple[str, ...] = ()


def small_form_steps(root: str = "/data", group: str = "") -> list[dict[str, Any]]:
    """The test suite's own form (``xlsform_bytes``): required, a constraint, relevance, a repeat."""
    at = f"{root}{group}"
    return [
        expect(f"{at}/country", required=True, required_valid=False, relevant=True),
        expect(f"{root}/shop_share", relevant=False),
        fill(f"{root}/channels", ["website"]),
        expect(f"{root}/shop_share", relevant=False),
        fill(f"{root}/channels", ["website", "shop"]),
        expect(f"{root}/shop_share", relevant=True),
        fill(f"{at}/employees", -3),
        expect(f"{at}/employees", **violated("Nicht negativ")),
        fill(f"{at}/employees", 24),
        expect(f"{at}/employees", **VALID),
        fill(f"{at}/country", ["FR"]),
        expect(f"{at}/country", required_valid=True, value=["FR"]),
        fill(f"{root}/shop_share", "0.25"),
        expect(f"{root}/big", value="1"),
        expect(f"{root}/per_third", value="8"),
        expect(f"{root}/tag", value="c-FR"),
        fill(f"{root}/tools[1]/tool_name", "CRM"),
        fill(f"{root}/tools[1]/tool_cost", 30),
        add_repeat(f"{root}/tools"),
        expect(f"{root}/tools[2]/tool_name", required=True, required_valid=False),
        fill(f"{root}/tools[2]/tool_name", "ERP Ü & <Test>"),
    ]


SMALL_STORED = {
    "country": "FR",
    "employees": 24,
    "channels": "website shop",
    "big": 1,
    "per_third": 8,
    "tag": "c-FR",
    "shop_share": 0.25,
    "tools": [{"tool_name": "CRM", "tool_cost": 30}, {"tool_name": "ERP Ü & <Test>"}],
}

FOB = "/data"
GERMAN_REGIONS = [
    "de_baden_wuerttemberg",
    "de_by",
    "de_berlin",
    "de_brandenburg",
    "de_bremen",
    "de_hamburg",
    "de_he",
    "de_mecklenburg_vorpommern",
    "de_ni",
    "de_nw",
    "de_rp",
    "de_saarland",
    "de_sn",
    "de_st",
    "de_schleswig_holstein",
    "de_th",
]
FOB_STEPS = [
    expect(f"{FOB}/profile/country", required=True, required_valid=False),
    fill(f"{FOB}/profile/country", ["DE"]),
    # the choice filter: only German regions are offered
    expect(f"{FOB}/profile/region", relevant=True, required=True, options=GERMAN_REGIONS),
    fill(f"{FOB}/profile/country", ["other"]),
    expect(f"{FOB}/profile/region", relevant=False),
    fill(f"{FOB}/profile/country", ["DE"]),
    fill(f"{FOB}/profile/region", ["de_by"]),
    fill(f"{FOB}/profile/sector", ["retail"]),
    fill(f"{FOB}/profile/size", ["small"]),
    fill(f"{FOB}/profile/founded", 1700),
    expect(f"{FOB}/profile/founded", constraint_valid=False),
    fill(f"{FOB}/profile/founded", TODAY.year + 1),
    expect(f"{FOB}/profile/founded", constraint_valid=False),
    fill(f"{FOB}/profile/founded", 1995),
    expect(f"{FOB}/profile/founded", **VALID),
    expect(f"{FOB}/profile/business_age", value=str(TODAY.year - 1995)),
    fill(f"{FOB}/presence/presence_before", ["website", "none"]),
    expect(f"{FOB}/presence/presence_before", constraint_valid=False),
    fill(f"{FOB}/presence/presence_before", ["website", "online_shop"]),
    expect(f"{FOB}/presence/presence_before", **VALID),
    fill(f"{FOB}/presence/digital_share", ["p10_24"]),
    expect(f"{FOB}/presence/digital25", value="0"),
    fill(f"{FOB}/presence/digital_share", ["p25_49"]),
    expect(f"{FOB}/presence/digital25", value="1"),
    fill(f"{FOB}/impact/revenue_change", ["inc1_24"]),
    fill(f"{FOB}/impact/employment_change", ["same"]),
    expect(f"{FOB}/impact/closed_months", relevant=False),
    fill(f"{FOB}/impact/closed", ["yes"]),
    expect(f"{FOB}/impact/closed_months", relevant=True, required=True, required_valid=False),
    fill(f"{FOB}/impact/closed_months", 30),
    expect(f"{FOB}/impact/closed_months", constraint_valid=False),
    fill(f"{FOB}/impact/closed_months", 3),
    expect(f"{FOB}/impact/closed_months", **VALID),
    # a changed mind: the months become non-relevant and leave the instance
    fill(f"{FOB}/impact/closed", ["no"]),
    expect(f"{FOB}/impact/closed_months", relevant=False),
    fill(f"{FOB}/adoption/tools_since", ["none"]),
    expect(f"{FOB}/adoption/tool_detail", relevant=False),
    fill(f"{FOB}/adoption/tools_since", ["none", "cloud"]),
    expect(f"{FOB}/adoption/tools_since", constraint_valid=False),
    fill(f"{FOB}/adoption/tools_since", ["online_shop", "cloud"]),
    expect(f"{FOB}/adoption/tool_detail", relevant=True),
    # the repeat's choice filter offers only the tools named above
    expect(f"{FOB}/adoption/tool_detail[1]/tool", options=["online_shop", "cloud"], required=True),
    fill(f"{FOB}/adoption/tool_detail[1]/tool", ["online_shop"]),
    fill(f"{FOB}/adoption/tool_detail[1]/tool_start", "2021-03-01"),
    fill(f"{FOB}/adoption/tool_detail[1]/tool_cost", "120.5"),
    fill(f"{FOB}/adoption/tool_detail[1]/tool_useful", ["4"]),
    add_repeat(f"{FOB}/adoption/tool_detail"),
    fill(f"{FOB}/adoption/tool_detail[2]/tool", ["cloud"]),
    fill(f"{FOB}/adoption/tool_detail[2]/tool_start", TOMORROW),
    expect(f"{FOB}/adoption/tool_detail[2]/tool_start", constraint_valid=False),
    fill(f"{FOB}/adoption/tool_detail[2]/tool_start", "2022-01-15"),
    fill(f"{FOB}/adoption/tool_detail[2]/tool_cost", -1),
    expect(f"{FOB}/adoption/tool_detail[2]/tool_cost", constraint_valid=False),
    fill(f"{FOB}/adoption/tool_detail[2]/tool_cost", 0),
    expect(f"{FOB}/adoption/tool_detail[2]/tool_cost", **VALID),
    fill(f"{FOB}/adoption/remote_staff", ["sometimes"]),
    fill(f"{FOB}/adoption/collaboration", ["video", "chat"]),
    fill(f"{FOB}/adoption/remote_stays", ["partly"]),
    expect(f"{FOB}/needs/support_needs_other", relevant=False),
    fill(f"{FOB}/needs/support_needs", ["online_ads", "other"]),
    expect(f"{FOB}/needs/support_needs_other", relevant=True),
    fill(f"{FOB}/needs/support_needs_other", "Buchhaltung & Steuern"),
    fill(f"{FOB}/needs/training_format", ["workshop", "videos"]),
    expect(f"{FOB}/contact/email", relevant=False),
    fill(f"{FOB}/contact/consent", ["yes"]),
    expect(f"{FOB}/contact/email", relevant=True, required=True, required_valid=False),
    fill(f"{FOB}/contact/email", "keine-adresse"),
    expect(f"{FOB}/contact/email", constraint_valid=False),
    fill(f"{FOB}/contact/email", "info@beispiel.de"),
    expect(f"{FOB}/contact/email", **VALID),
]
FOB_STORED = {
    "wave": "2026-1",
    "country": "DE",
    "region": "de_by",
    "sector": "retail",
    "size": "small",
    "founded": 1995,
    "business_age": TODAY.year - 1995,
    "presence_before": "website online_shop",
    "digital_share": "p25_49",
    "digital25": 1,
    "revenue_change": "inc1_24",
    "employment_change": "same",
    "closed": "no",
    "tools_since": "online_shop cloud",
    "tool_detail": [
        {"tool": "online_shop", "tool_start": "2021-03-01", "tool_cost": 120.5, "tool_useful": "4"},
        {"tool": "cloud", "tool_start": "2022-01-15", "tool_cost": 0},
    ],
    "remote_staff": "sometimes",
    "collaboration": "video chat",
    "remote_stays": "partly",
    "support_needs": "online_ads other",
    "support_needs_other": "Buchhaltung & Steuern",
    "training_format": "workshop videos",
    "consent": "yes",
    "email": "info@beispiel.de",
}

CHECK_ITEMS = {
    "technology": [
        "dii_internet_staff",
        "dii_ict_specialists",
        "dii_broadband",
        "dii_mobile_devices",
        "dii_online_meetings",
        "dii_security_awareness",
        "dii_erp",
        "dii_crm",
        "dii_cloud",
        "dii_data_analytics",
        "dii_ai",
        "dii_ecommerce",
    ],
    "channels": ["ch_website", "ch_online_shop", "ch_social_media", "ch_messaging", "ch_online_ads"],
}
CHECK_MATURITY = {
    "dma_strategy": ["dma_strategy_plan", "dma_strategy_budget", "dma_strategy_customers"],
    "dma_readiness": ["dma_ready_processes", "dma_ready_sales", "dma_ready_security"],
    "dma_human": ["dma_human_skills", "dma_human_training", "dma_human_involve"],
    "dma_data": ["dma_data_storage", "dma_data_use", "dma_data_protection"],
    "dma_automation": ["dma_auto_tasks", "dma_auto_integration", "dma_auto_ai"],
    "dma_green": ["dma_green_energy", "dma_green_paperless", "dma_green_reuse"],
}


def check_case() -> Case:
    steps = [
        expect("/data/profile/country", required=True, required_valid=False),
        fill("/data/profile/country", ["FR"]),
        fill("/data/profile/sector", ["ict"]),
        fill("/data/profile/size", ["micro"]),
    ]
    stored: dict[str, Any] = {"country": "FR", "sector": "ict", "size": "micro"}
    for i, (group, names) in enumerate(CHECK_ITEMS.items()):
        for j, name in enumerate(names):
            answer = "yes" if (i + j) % 2 == 0 else "no"
            steps.append(fill(f"/data/{group}/{name}", [answer]))
            stored[name] = answer
    steps.append(fill("/data/channels/digital_share", ["lt10"]))
    stored["digital_share"] = "lt10"
    for i, (group, names) in enumerate(CHECK_MATURITY.items()):
        for j, name in enumerate(names):
            level = str((i + j) % 5)
            steps.append(fill(f"/data/{group}/{name}", [level]))
            stored[name] = level
    steps += [
        fill("/data/privacy/consent_statistics", ["yes"]),
        expect("/data/privacy/email", required=False, relevant=True),
        fill("/data/privacy/email", "a@b"),
        expect("/data/privacy/email", constraint_valid=False),
        fill("/data/privacy/email", "kontakt@firma.fr"),
        expect("/data/privacy/email", **VALID),
    ]
    stored.update(consent_statistics="yes", email="kontakt@firma.fr")
    return Case("digital_check", (BUNDLED_DIR / FORM_FILE).read_bytes(), steps, stored)


CASES = [
    Case(
        "future_of_business",
        QUESTIONNAIRE_PATH.read_bytes(),
        FOB_STEPS,
        FOB_STORED,
        timestamps=("started", "finished"),
        server=("wave",),
    ),
    check_case(),
    Case(
        "example_form",
        EXAMPLE_FORM.read_bytes(),
        [
            fill("/data/country", ["DE"]),
            fill("/data/employees", -1),
            expect("/data/employees", constraint_valid=False),
            fill("/data/employees", 0),
            expect("/data/employees", **VALID),
        ],
        {"country": "DE", "employees": 0},
    ),
    Case("fob_test", xlsform_bytes(version="1"), small_form_steps(), SMALL_STORED),
    Case(
        "fob_test_grouped", xlsform_bytes(version="3", grouped=True), small_form_steps(group="/company"), SMALL_STORED
    ),
    Case(
        "fob_test_v2",
        xlsform_bytes(version="2", extra_field=True, extra_choice=True),
        [
            *small_form_steps()[:-1],
            expect("/data/channels", options=["website", "shop", "social", "marketplace"]),
            fill("/data/channels", ["marketplace", "shop"]),
            fill("/data/tools[2]/tool_name", "ERP Ü & <Test>"),
            fill("/data/comment", "Zeile 1\nZeile 2"),
        ],
        {**SMALL_STORED, "channels": "shop marketplace", "comment": "Zeile 1\nZeile 2"},
    ),
    Case(
        "fob_test_server_fields",
        xlsform_bytes(version="7", server_fields=True),
        small_form_steps(),
        SMALL_STORED,
        server=("wave", "form_version", "instanceID", "received_at"),
    ),
]


#: the test suite's form left unfinished: a constraint broken, required answers missing
UNFINISHED = Case("fob_test_unfinished", xlsform_bytes(version="1"), [fill("/data/employees", -3)], {})


def _request(case: Case, xform: str) -> dict[str, Any]:
    steps = [{k: v for k, v in step.items() if k != "expect"} for step in case.steps]
    return {"name": case.name, "xform": xform, "steps": steps}


@pytest.fixture(scope="module")
def engine() -> dict[str, Any]:
    """Every case run by ODK's engine in one Node process: {case name: its result}."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: ODK's engine needs it (make test installs it with npm)")
    cases = [*CASES, UNFINISHED]
    loaded = {case.name: formdef.form_load(case.xlsx) for case in cases}
    request = {"forms": [_request(case, loaded[case.name].xform_xml) for case in cases]}
    run = subprocess.run(
        [node, str(CLIENT)], input=json.dumps(request), capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, f"the engine client failed (npm ci installs @getodk/xforms-engine):\n{run.stderr}"
    out = json.loads(run.stdout)
    results = {form["name"]: form for form in out["forms"]}
    for name, form in results.items():
        form["xform"], form["version"] = loaded[name].xform_xml, loaded[name].version
    return results


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_odk_engine_loads_the_form_and_fills_it_as_the_xlsform_says(engine, case):
    result = engine[case.name]
    assert result["status"] == "success", result["error"]
    assert result["warnings"] == []
    assert len(result["results"]) == len(case.steps)
    for step, got in zip(case.steps, result["results"]):
        assert "error" not in got, (step, got["error"])
        for key, want in step.get("expect", {}).items():
            assert got[key] == want, (step["probe"], key, got)
    # a form filled to the end has nothing left to object to, and the engine's payload is ready to send
    assert result["violations"] == []
    assert result["payload_status"] == "ready"


def test_odk_engine_holds_back_an_unfinished_form(engine):
    result = engine[UNFINISHED.name]
    assert result["payload_status"] == "pending"
    assert result["violations"] == [
        {"reference": "/data/country", "condition": "required", "message": None},
        {"reference": "/data/employees", "condition": "constraint", "message": "Nicht negativ"},
        {"reference": "/data/tools[1]/tool_name", "condition": "required", "message": None},
    ]


@pytest.mark.django_db
def test_odk_engine_instances_are_accepted_by_openrosa_and_stored_intact(client, manager, engine):
    """All forms at once: each HTTP Basic request hashes the password, so one account and one form list."""
    form_ids = {}
    for case in CASES:
        resp = upload(manager, case.xlsx)
        assert resp.status_code == 201, (case.name, resp.content)
        form_ids[case.name] = resp.json()["form_id"]
    # the XForm digifit serves (its md5 in the OpenRosa form list) is the one the engine loaded
    listed = client.get("/openrosa/formList?listAllVersions=true", headers=openrosa_headers())
    hashes = {
        (x.findtext(f"{XFORMS_NS}formID"), x.findtext(f"{XFORMS_NS}version")): x.findtext(f"{XFORMS_NS}hash")
        for x in ET.fromstring(listed.content)
    }
    for case in CASES:
        result = engine[case.name]
        served = hashes[form_ids[case.name], result["version"]]
        assert served == "md5:" + hashlib.md5(result["xform"].encode()).hexdigest(), case.name
        instance = result["instance_xml"].encode()
        sent = post_submission(client, instance)
        assert sent.status_code == 201, (case.name, sent.content)
        assert ET.fromstring(sent.content).find(f"{RESPONSE_NS}message").get("nature") == "submit_success"
        instance_id = ET.fromstring(instance).findtext("meta/instanceID").removeprefix("uuid:")
        sub = Submission.objects.get(instance_id=instance_id)
        assert sub.source == Submission.Source.OPENROSA and sub.questionnaire_version.version == result["version"]
        data = dict(sub.data)
        for name in case.timestamps:
            assert TIMESTAMP.match(data.pop(name)), (case.name, name)
        # the server's own values (tests/survey/test_server_fields.py checks the wave's, with a wave open)
        server = {name: data.pop(name) for name in case.server}
        if "form_version" in server:
            assert server["form_version"] == result["version"]
            assert server["instanceID"] == f"uuid:{instance_id}"
            assert TIMESTAMP.match(server["received_at"]), server
        expected = {k: v for k, v in case.stored.items() if k not in case.server}
        assert data == expected, case.name
    # the unfinished instance, sent anyway, is refused for the same reasons and not stored
    count = Submission.objects.count()
    refused = post_submission(client, engine[UNFINISHED.name]["instance_xml"].encode())
    assert refused.status_code == 422, refused.content
    reason = ET.fromstring(refused.content).findtext(f"{RESPONSE_NS}message")
    assert "employees" in reason and "country" in reason
    assert Submission.objects.count() == count
