"""`tagging suggest`, `tagging evaluate` and `safeguarding triage` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def _run(app, args, input=None):
    result = app.test_cli_runner().invoke(args=args, input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_tagging_suggest_prints_one_json_array_per_line(app):
    lines = 'my sw keeps changing\ni love pizza\n"nobody asked me about my pep"\n'
    out = _run(app, ["tagging", "suggest", "--jsonl"], input=lines).splitlines()
    assert len(out) == 3
    first, second, third = (json.loads(line) for line in out)
    assert first[0]["code"] == "WORKER-STABILITY" and first[0]["evidence"]
    assert set(first[0]) >= {"code", "score", "evidence"} and 0 < first[0]["score"] <= 1
    assert second == []
    assert "PEP-CHILD-VOICE" in {s["code"] for s in third}


def test_tagging_evaluate_prints_precision_and_recall(app):
    out = _run(app, ["tagging", "evaluate", str(DATA / "tagging_heldout.jsonl")])
    assert "prec" in out and "rec" in out
    overall = next(line for line in out.splitlines() if line.startswith("ALL"))
    precision, recall = (float(v) for v in overall.split()[4:6])
    assert precision >= 0.7 and recall >= 0.7


def test_safeguarding_triage_prints_one_object_per_line(app):
    lines = "I feel safe where I live\nmy step dad beats me\nmaths is killing me lol\n"
    out = [
        json.loads(line)
        for line in _run(app, ["safeguarding", "triage", "--jsonl"], input=lines).splitlines()
    ]
    assert [o["level"] for o in out] == ["none", "urgent", "none"]
    assert "physical_abuse" in out[1]["reasons"]
    assert all(set(o) >= {"level", "reasons"} for o in out)
