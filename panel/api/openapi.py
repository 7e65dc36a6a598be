"""The OpenAPI 3.1 document of the aggregate API, kept as data beside the views.

A test checks that every ``/api/v1`` route is described here and nothing else is.
"""

from __future__ import annotations

import copy
from typing import Any

from participation.councils.models import AgeBand

NULL_MEANS_HIDDEN = (
    "null means hidden: fewer children than the threshold, or a value from which a hidden "
    "count could be worked out."
)


def _hidden_count(description: str) -> dict[str, Any]:
    return {
        "type": ["integer", "null"],
        "minimum": 0,
        "description": f"{description} Rounded to the nearest 5. {NULL_MEANS_HIDDEN}",
    }


def _hidden_percent(description: str) -> dict[str, Any]:
    return {
        "type": ["integer", "null"],
        "minimum": 0,
        "maximum": 100,
        "description": (
            f"{description} A whole-number percentage (0 to 100, halves rounded up), "
            f"the same as the pages and packs show. {NULL_MEANS_HIDDEN}"
        ),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "allOf": [
            _ref("Envelope"),
            {"type": "object", "required": ["data"], "properties": {"data": data}},
        ]
    }


def _ok(description: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}},
        "content": {"application/json": {"schema": _envelope(data)}},
    }


def _problem(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


FILTER_PARAMETERS = [
    {"$ref": "#/components/parameters/year"},
    {"$ref": "#/components/parameters/round"},
    {"$ref": "#/components/parameters/age_band"},
    {"$ref": "#/components/parameters/group"},
]

ERRORS = {
    "400": _problem("BadParameter"),
    "401": _problem("Unauthorized"),
    "404": _problem("NotFound"),
    "429": _problem("TooManyRequests"),
}


def _operation(
    operation_id: str, summary: str, description: str, ok: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["aggregates"],
        "parameters": [*extra.pop("parameters", []), *FILTER_PARAMETERS],
        "responses": {"200": ok, **ERRORS},
        **extra,
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Child Voice aggregate API",
        "version": "1.0.0",
        "summary": "Suppressed aggregates of one council's survey answers and challenge cards.",
        "description": (
            "Read-only figures for a council's BI tools, the same as the panel dashboards "
            "show. Every figure is suppressed: a count under the threshold (in each answer's "
            "`threshold`) is hidden, and so is any value from which a hidden count could be "
            "worked out. **A hidden value is `null`.** No answer ever holds a child's own "
            "words or anything about one child.\n\n"
            "Authenticate with a token that an administrator creates at `/staff/api-tokens`: "
            "`Authorization: Bearer <token>`. The token's council scopes every answer. Calls "
            "are rate-limited per token (HTTP 429 with `Retry-After` when exceeded).\n\n"
            "Filters are query parameters; an empty value (`year=`) means no filter. A "
            "malformed value or an unknown parameter is a 400; a round or group that is not "
            "the token's council's is a 404, as if it did not exist."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "tags": [
        {"name": "aggregates", "description": "Suppressed figures for one council."},
        {"name": "meta", "description": "About the API itself."},
    ],
    "paths": {
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "description": "Public: it holds no data.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/api/v1/indicators": {
            "get": _operation(
                "listIndicators",
                "Survey indicators",
                "Per survey question: how many answered it (base) and the favourable share.",
                _ok(
                    "One row per question answered within the filters.",
                    {"type": "array", "items": _ref("Indicator")},
                ),
            )
        },
        "/api/v1/indicators/{key}": {
            "get": _operation(
                "getIndicator",
                "One indicator, split",
                "One survey question by year, by age band and by group.",
                _ok("The question and its three splits.", _ref("IndicatorSplits")),
                parameters=[
                    {
                        "name": "key",
                        "in": "path",
                        "required": True,
                        "description": "The question's stable key, as in `/api/v1/indicators`.",
                        "schema": {"type": "string", "examples": ["feel_safe"]},
                    }
                ],
            )
        },
        "/api/v1/evidence": {
            "get": _operation(
                "listEvidence",
                "Evidence by Ofsted recommendation",
                "A row per recommendation: its survey indicators, confirmed tags on children's "
                "free text (counts only) and the challenge cards tagged with it.",
                _ok(
                    "One row per active recommendation.",
                    {"type": "array", "items": _ref("EvidenceRow")},
                ),
            )
        },
        "/api/v1/response-rates": {
            "get": _operation(
                "listResponseRates",
                "Response rates",
                "Per round and group: responses sent against the group size a worker recorded.",
                _ok(
                    "One row per round and group, newest round first.",
                    {"type": "array", "items": _ref("ResponseRate")},
                ),
            )
        },
        "/api/v1/cards": {
            "get": _operation(
                "getCardSummary",
                "Challenge cards",
                "The challenge card funnel, the median days from sending a card to its answer, "
                "and overdue cards. Cards belong to no survey round: the filters are checked "
                "but not applied, and the answer's `filters` is empty.",
                _ok("The council's card summary.", _ref("CardSummary")),
            )
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from /staff/api-tokens (starts `cvp_`). Session "
                "cookies are not accepted.",
            }
        },
        "parameters": {
            "year": {
                "name": "year",
                "in": "query",
                "required": False,
                "description": "Rounds that opened in this calendar year.",
                "schema": {"type": "integer", "minimum": 1000, "maximum": 9999},
            },
            "round": {
                "name": "round",
                "in": "query",
                "required": False,
                "description": "One survey round, by id (404 if not the token's council's).",
                "schema": {"type": "integer", "minimum": 1},
            },
            "age_band": {
                "name": "age_band",
                "in": "query",
                "required": False,
                "description": "Question sets for one age band.",
                "schema": {"type": "string", "enum": [band.value for band in AgeBand]},
            },
            "group": {
                "name": "group",
                "in": "query",
                "required": False,
                "description": "One group, by id (404 if not the token's council's).",
                "schema": {"type": "integer", "minimum": 1},
            },
        },
        "schemas": {
            "Envelope": {
                "type": "object",
                "required": ["council", "threshold", "filters", "generated_at", "note", "data"],
                "properties": {
                    "council": {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    },
                    "threshold": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Counts under this are hidden (null).",
                    },
                    "filters": {
                        "type": "object",
                        "description": "The filters applied (absent when not applied).",
                        "properties": {
                            "year": {"type": "integer"},
                            "round": {"type": "integer"},
                            "age_band": {"type": "string"},
                            "group": {"type": "integer"},
                        },
                        "additionalProperties": False,
                    },
                    "generated_at": {"type": "string", "format": "date-time"},
                    "released_at": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "When the figures were released: they change only in "
                        "releases (a round closing, or enough new responses), never as each "
                        "child answers. null: nothing released yet.",
                    },
                    "release_id": {"type": ["integer", "null"]},
                    "note": {"type": "string", "description": "What null means."},
                    "data": {},
                },
            },
            "Indicator": {
                "type": "object",
                "required": ["key", "figure_key", "text", "base", "share"],
                "properties": {
                    "key": {"type": "string"},
                    "figure_key": {
                        "type": "string",
                        "description": "A stable key made of codes (question key or "
                        "recommendation code, then year, round id, age band, group id).",
                    },
                    "text": {"type": "string", "description": "The question, in English."},
                    "base": _hidden_count("Children who answered."),
                    "share": _hidden_percent("Favourable answers."),
                },
            },
            "SplitCell": {
                "type": "object",
                "required": ["key", "label", "figure_key", "base", "share"],
                "properties": {
                    "key": {
                        "type": "string",
                        "description": "The code of the part: a year, an age band, a group id.",
                    },
                    "label": {"type": "string", "description": "What people read."},
                    "figure_key": {
                        "type": "string",
                        "description": "A stable key made of codes (question key or "
                        "recommendation code, then year, round id, age band, group id).",
                    },
                    "base": _hidden_count("Children who answered."),
                    "share": _hidden_percent("Favourable answers."),
                },
            },
            "IndicatorSplits": {
                "type": "object",
                "required": ["key", "text", "splits"],
                "properties": {
                    "key": {"type": "string"},
                    "text": {"type": "string"},
                    "splits": {
                        "type": "object",
                        "required": ["year", "age_band", "group"],
                        "properties": {
                            by: {"type": "array", "items": _ref("SplitCell")}
                            for by in ("year", "age_band", "group")
                        },
                    },
                },
            },
            "EvidenceRow": {
                "type": "object",
                "required": [
                    "code",
                    "figure_key",
                    "title",
                    "base",
                    "share",
                    "text_tags",
                    "cards_raised",
                    "cards_answered",
                    "cards_changed",
                ],
                "properties": {
                    "code": {"type": "string", "examples": ["PEP-TARGETS"]},
                    "figure_key": {
                        "type": "string",
                        "description": "A stable key made of codes (question key or "
                        "recommendation code, then year, round id, age band, group id).",
                    },
                    "title": {"type": "string"},
                    "base": _hidden_count("Answers to the questions giving evidence on it."),
                    "share": _hidden_percent("Favourable answers to those questions."),
                    "text_tags": _hidden_count("Children's free-text answers tagged with it."),
                    "cards_raised": _hidden_count("Challenge cards tagged with it."),
                    "cards_answered": _hidden_count("Of those, cards a service answered."),
                    "cards_changed": _hidden_count("Of those, cards that changed something."),
                },
            },
            "ResponseRate": {
                "type": "object",
                "required": [
                    "key",
                    "round_id",
                    "round",
                    "group_id",
                    "group",
                    "sent",
                    "expected",
                    "known",
                    "rate",
                ],
                "properties": {
                    "key": {"type": "string", "description": "rate:r<round id>.g<group id>"},
                    "round_id": {"type": "integer"},
                    "round": {"type": "string"},
                    "group_id": {"type": "integer"},
                    "group": {"type": "string"},
                    "sent": _hidden_count("Responses sent."),
                    "expected": _hidden_count(
                        "The group size a worker recorded; also null when none was recorded "
                        "(see `known`)."
                    ),
                    "known": {
                        "type": "boolean",
                        "description": "Whether a worker recorded the group size.",
                    },
                    "rate": _hidden_percent(
                        "Responses sent as a share of the group size; hidden with its parts "
                        "unless both the sent and the not-sent counts reach the threshold."
                    ),
                },
            },
            "CardStage": {
                "type": "object",
                "required": ["key", "label", "count"],
                "properties": {
                    "key": {
                        "type": "string",
                        "examples": ["raised", "sent", "answered", "changed"],
                    },
                    "label": {"type": "string"},
                    "count": _hidden_count("Cards that reached this stage."),
                },
            },
            "CardSummary": {
                "type": "object",
                "required": ["stages", "median_days", "overdue"],
                "properties": {
                    "stages": {"type": "array", "items": _ref("CardStage")},
                    "median_days": {
                        "type": ["number", "null"],
                        "description": "Median days from sending a card to its answer. "
                        + NULL_MEANS_HIDDEN,
                    },
                    "overdue": _hidden_count("Cards past their reply date."),
                },
            },
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string", "examples": ["bad_parameter"]},
                    "message": {"type": "string"},
                    "parameter": {
                        "type": "string",
                        "description": "The query or path parameter at fault.",
                    },
                },
            },
        },
        "responses": {
            "BadParameter": {
                "description": "A malformed filter, a repeated one or an unknown parameter.",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "Unauthorized": {
                "description": "No token, or one that is mistyped or revoked.",
                "headers": {
                    "WWW-Authenticate": {
                        "schema": {"type": "string", "examples": ['Bearer realm="api"']}
                    }
                },
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "NotFound": {
                "description": "No such question key, or a round or group of another council.",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "TooManyRequests": {
                "description": "The token's rate limit is used up.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the document, safe for a caller to change."""
    return copy.deepcopy(OPENAPI)
