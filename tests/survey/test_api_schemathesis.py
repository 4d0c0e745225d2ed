"""Schemathesis against the API's own OpenAPI schema, through the WSGI app (no server, no network): for every
operation, generated requests — valid and invalid — never give a server error, and every answer has a status
code, content type and body the schema documents."""

from __future__ import annotations

import socket

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from digifit.web.urls import api  # the API as mounted: every app's routers (the checks router is added there)
from digifit.web.wsgi import application

EXAMPLES = 50

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"))
schema.app = application

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Calls go through the WSGI app, not Django's test client: like the client, keep the request signals from
    closing the test's database connection (on PostgreSQL a closed connection cannot reopen inside the test's
    transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(make_user, monkeypatch):
    """A survey manager's token; host names resolve nowhere (a generated webhook URL never reaches DNS)."""

    def no_dns(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "no DNS in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return make_user("fuzz", "survey_manager")[1]


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
