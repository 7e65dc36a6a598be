"""PARTICIPATION_PROXY_HOPS reaches the app: behind nginx each person keeps their own address."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from participation import register_proxy
from participation.config import load_config


def test_proxy_hops_from_the_environment_trusts_one_proxy(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTICIPATION_PROXY_HOPS", "1")
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app, {"SECRET_KEY": "x" * 32, "TESTING": True})
    register_proxy(app)

    @app.get("/whoami")
    def whoami() -> str:
        return str(request.remote_addr)

    assert app.config["PROXY_HOPS"] == 1
    assert isinstance(app.wsgi_app, ProxyFix)
    reply = app.test_client().get("/whoami", headers={"X-Forwarded-For": "10.1.2.3"})
    assert reply.get_data(as_text=True) == "10.1.2.3"


def test_without_proxy_hops_a_forwarded_address_is_not_believed(monkeypatch, tmp_path):
    monkeypatch.delenv("PARTICIPATION_PROXY_HOPS", raising=False)
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app, {"SECRET_KEY": "x" * 32, "TESTING": True})
    register_proxy(app)

    @app.get("/whoami")
    def whoami() -> str:
        return str(request.remote_addr)

    reply = app.test_client().get("/whoami", headers={"X-Forwarded-For": "10.1.2.3"})
    assert reply.get_data(as_text=True) == "127.0.0.1"
