"""The floor for the survey benchmark: a bare Flask app writing the same rows with plain SQL.

It speaks the same HTTP as the real app to a simulated phone (join, start, a page and a POST
per question, send) and stores the same rows (participant, survey_response, survey_answer)
in the same PostgreSQL schema, so the load driver and its database check serve both. What it
leaves out is what the real app is for: no ORM, no CSRF check, no signed session, no access
rules, no templates, no translations, no safeguarding triage or tagging, no rate limit.

Served by ``benchmarks/load_bench.py`` with the same gunicorn settings as the real app:
``BARE_DATABASE_URL=postgresql://... gunicorn benchmarks.bare_app:app``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from html import escape
from typing import Any

import psycopg
from flask import Flask, abort, redirect, request

app = Flask(__name__)
_connection: psycopg.Connection[Any] | None = None
FORM = '<form method="post"><input type="hidden" name="csrf_token" value="bare">{}</form>'


def connection() -> psycopg.Connection[Any]:
    """One connection per worker process, opened after the fork, reopened if it broke."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        url = os.environ["BARE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _connection = psycopg.connect(url)
    return _connection


def query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with connection().cursor() as cursor:
        cursor.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


@app.teardown_request
def finish(error: BaseException | None) -> None:
    if _connection is not None and not _connection.closed:
        if error is None:
            _connection.commit()
        else:
            _connection.rollback()


def participant() -> tuple[int, int, int]:
    token = request.cookies.get("cv_child", "")
    rows = query(
        "SELECT id, council_id, group_id FROM participant WHERE token_hash = %s",
        hashlib.sha256(token.encode()).hexdigest(),
    )
    if not rows:
        abort(403)
    return rows[0]


def response_for(round_id: int, participant_id: int) -> tuple[int, int]:
    rows = query(
        "SELECT id, question_set_id FROM survey_response "
        "WHERE round_id = %s AND participant_id = %s",
        round_id,
        participant_id,
    )
    if not rows:
        abort(404)
    return rows[0]


@app.get("/healthz")
def health() -> str:
    query("SELECT 1")
    return "ok"


@app.get("/join")
def join_page() -> str:
    return FORM.format('<input name="code">')


@app.post("/join")
def join() -> Any:
    rows = query(
        "SELECT j.council_id, j.group_id FROM join_code j "
        "WHERE j.code = %s AND j.retired_at IS NULL",
        request.form["code"].replace("-", "").upper(),
    )
    if not rows:
        abort(404)
    token = secrets.token_urlsafe(32)
    query(
        "INSERT INTO participant (council_id, group_id, token_hash, joined_at, last_seen_at) "
        "VALUES (%s, %s, %s, now(), now())",
        *rows[0],
        hashlib.sha256(token.encode()).hexdigest(),
    )
    reply = redirect("/me")
    reply.set_cookie("cv_child", token, httponly=True, samesite="Lax")
    return reply


@app.get("/me")
def child_home() -> str:
    _pid, _council, group_id = participant()
    rows = query(
        "SELECT r.id FROM survey_round r JOIN survey_round_group g ON g.round_id = r.id "
        "WHERE g.group_id = %s AND r.opens_at <= now() AND r.closes_at > now()",
        group_id,
    )
    return "".join(f'<a href="/survey/{round_id}">Start</a>' for (round_id,) in rows)


@app.get("/survey/<int:round_id>")
def welcome(round_id: int) -> str:
    return FORM.format("<button>Start</button>")


@app.post("/survey/<int:round_id>/start")
def start(round_id: int) -> Any:
    pid, council_id, group_id = participant()
    query(
        "INSERT INTO survey_response (council_id, round_id, group_id, participant_id, "
        "question_set_id, language, current_position, status, started_at, updated_at) "
        "SELECT %s, r.id, %s, %s, r.question_set_id, 'en', 1, 'in_progress', now(), now() "
        "FROM survey_round r WHERE r.id = %s "
        "ON CONFLICT (round_id, participant_id) DO NOTHING",
        council_id,
        group_id,
        pid,
        round_id,
    )
    return redirect(f"/survey/{round_id}/q/1")


@app.get("/survey/<int:round_id>/q/<int:position>")
def question(round_id: int, position: int) -> str:
    pid, _council, _group = participant()
    _rid, question_set_id = response_for(round_id, pid)
    rows = query(
        "SELECT kind, choices FROM survey_question WHERE question_set_id = %s AND position = %s",
        question_set_id,
        position,
    )
    if not rows:
        abort(404)
    kind, choices = rows[0]
    if kind == "text":
        return FORM.format('<textarea name="text"></textarea>')
    radios = "".join(
        f'<input type="radio" name="choice" value="{escape(c["value"])}">' for c in choices
    )
    return FORM.format(radios)


@app.post("/survey/<int:round_id>/q/<int:position>")
def answer(round_id: int, position: int) -> Any:
    pid, council_id, _group = participant()
    response_id, question_set_id = response_for(round_id, pid)
    questions = query(
        "SELECT id, key, position, favourable, show_if FROM survey_question "
        "WHERE question_set_id = %s ORDER BY position",
        question_set_id,
    )
    found = next((q for q in questions if q[2] == position), None)
    if found is None:
        abort(404)
    question_id, key, _position, favourable, _show_if = found
    action = request.form.get("action", "next")
    choice = (request.form.get("choice") or None) if action == "next" else None
    text = ((request.form.get("text") or "").strip() or None) if action == "next" else None
    status = {"skip": "skipped", "prefer_not": "prefer_not"}.get(action, "answered")
    liked = (choice in favourable) if choice is not None and favourable else None
    query(
        "INSERT INTO survey_answer (council_id, response_id, question_id, question_key, "
        "status, choice, text, favourable, created_at, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), now()) "
        "ON CONFLICT (response_id, question_key) DO UPDATE SET status = excluded.status, "
        "choice = excluded.choice, text = excluded.text, favourable = excluded.favourable, "
        "updated_at = excluded.updated_at",
        council_id,
        response_id,
        question_id,
        key,
        status,
        choice,
        text,
        liked,
    )
    given = dict(
        query("SELECT question_key, choice FROM survey_answer WHERE response_id = %s", response_id)
    )
    following = next(
        (
            q[2]
            for q in questions
            if q[2] > position and (not q[4] or given.get(q[4]["question"]) in q[4]["in"])
        ),
        None,
    )
    query(
        "UPDATE survey_response SET current_position = %s, updated_at = now() WHERE id = %s",
        following or position + 1,
        response_id,
    )
    target = f"/survey/{round_id}/q/{following}" if following else f"/survey/{round_id}/end"
    return redirect(target)


@app.get("/survey/<int:round_id>/end")
def end(round_id: int) -> str:
    return FORM.format("<button>Send</button>")


@app.post("/survey/<int:round_id>/submit")
def submit(round_id: int) -> Any:
    pid, _council, _group = participant()
    query(
        "UPDATE survey_response SET status = 'submitted', submitted_at = now() "
        "WHERE round_id = %s AND participant_id = %s AND status = 'in_progress'",
        round_id,
        pid,
    )
    return redirect(f"/survey/{round_id}/thanks")


@app.get("/survey/<int:round_id>/thanks")
def thanks(round_id: int) -> str:
    return "<p>Thank you</p>"


__all__ = ["app"]
