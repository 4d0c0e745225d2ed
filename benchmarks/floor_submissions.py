"""The floor of ``run_submissions.py``: the least a server can do for a submission, as a bare WSGI application.

It parses the same JSON body, and inserts it into the same table (``survey_submission``) with
``INSERT … ON CONFLICT (instance_id) DO NOTHING`` over psycopg directly, one connection per thread, each
statement committed (durable) before the 201 — no framework, no authentication, no validation, no server
metadata. ``run_submissions.py`` runs it under the same gunicorn settings as digifit, in the same run, so the
ratio digifit / floor says what digifit's guarantees cost on this machine.

Configured by the environment: ``FLOOR_DSN`` (a libpq URL), ``FLOOR_VERSION_ID`` and ``FLOOR_WAVE_ID`` (the rows
the benchmark created). Run by gunicorn as ``floor_submissions:application`` from ``benchmarks/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid

import psycopg
from psycopg.types.json import Jsonb

_local = threading.local()

INSERT = (
    "INSERT INTO survey_submission (instance_id, questionnaire_version_id, wave_id, panel_id, language, data,"
    " received_sha256, status, source, created_at, updated_at, submitted_at)"
    " VALUES (%s, %s, %s, '', 'de', %s, %s, 'complete', 'api', now(), now(), now())"
    " ON CONFLICT (instance_id) DO NOTHING"
)


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["FLOOR_DSN"], autocommit=True)
    return conn


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def application(environ, start_response):
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/api/submissions":
        return _answer(start_response, "404 Not Found", {"detail": "not found"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        payload = json.loads(environ["wsgi.input"].read(length))
        instance_id = uuid.UUID(payload["instance_id"])
        data = payload["data"]
    except (ValueError, KeyError, TypeError):
        return _answer(start_response, "400 Bad Request", {"detail": "bad request"})
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    cursor = _connection().execute(
        INSERT,
        (instance_id, int(os.environ["FLOOR_VERSION_ID"]), int(os.environ["FLOOR_WAVE_ID"]), Jsonb(data), digest),
    )
    status = "201 Created" if cursor.rowcount == 1 else "200 OK"
    return _answer(start_response, status, {"instance_id": str(instance_id), "status": "complete"})
