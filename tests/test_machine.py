"""labkit.machine: the doctor's report, live and offline."""
from __future__ import annotations

import json

import pytest

import labkit
from labkit import hello, machine

NOWHERE = "unix:///nonexistent/labkit-test.sock"
KEYS = {"python", "platform", "packages", "engine", "engine_error", "compilers",
        "hello_variants", "mode", "mode_reason", "fleet", "fleet_error"}


def test_offline_report_says_why(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    report = machine.report()
    assert (report.mode, report.engine) == ("offline", None)
    assert report.engine_error == (f"no Docker engine answered at {NOWHERE}; "
                                   "start Docker, or run the lab offline")
    assert labkit.mode() == "offline"
    assert "offline (no Docker engine" in report.text()


def test_report_is_json_ready_and_complete(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    data = json.loads(json.dumps(machine.report().to_dict()))
    assert set(data) == KEYS
    assert data["packages"]["labkit"] == labkit.__version__
    assert set(data["hello_variants"]) == set(hello.VARIANTS)
    assert data["hello_variants"]["tiny"] is None
    assert set(data["compilers"]) == {"gcc", "musl-gcc"}


def test_text_and_html_show_every_finding(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    report = machine.report()
    text, page = report.text(), report._repr_html_()
    for variant in hello.VARIANTS:
        assert f"hello {variant}" in text and f"hello {variant}" in page
    assert page.startswith("<table") and page.count("<tr>") == len(text.splitlines())
    assert "<script" not in page


@pytest.mark.engine
def test_live_report_has_the_engine_facts(engine, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.base_url)
    report = machine.report()
    assert (report.mode, report.engine_error) == ("live", None)
    assert report.engine == engine.facts.to_dict()
    assert labkit.doctor().mode == labkit.mode() == "live"
    assert f"Docker {engine.facts.version}" in report.text()


def test_asking_for_the_mode_closes_the_connection(monkeypatch):
    from labkit import engine

    class Client:
        closed = False

        def close(self):
            Client.closed = True

    monkeypatch.setattr(engine, "try_connect", lambda: engine.Engine(Client(), "unix:///x"))
    assert labkit.mode() == "live" and Client.closed
