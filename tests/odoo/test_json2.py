"""JSON-2 (Odoo 19+): execute_kw-shaped calls become named arguments; answers and errors map as for the other protocols."""

from __future__ import annotations

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooAccessError, OdooAuthError, OdooError, OdooMissingError, OdooProgrammingError
from threepl_bridge.odoo.json2 import json2_body


def test_positional_arguments_get_the_orm_s_names():
    assert json2_body("search_read", [[["code", "=", "3PL"]]], {"fields": ["name"], "limit": 2}) == (
        {"domain": [["code", "=", "3PL"]], "fields": ["name"], "limit": 2}, False)
    assert json2_body("read", [[1, 2], ["name"]], {}) == ({"ids": [1, 2], "fields": ["name"]}, False)
    assert json2_body("write", [[7], {"name": "x"}], {}) == ({"ids": [7], "vals": {"name": "x"}}, False)
    assert json2_body("button_validate", [[3, 4]], {"context": {"skip_sms": True}}) == ({"ids": [3, 4], "context": {"skip_sms": True}}, False)
    assert json2_body("message_post", [5], {"body": "hi"}) == ({"ids": [5], "body": "hi"}, False)
    assert json2_body("load", [[".id", "date"], [[1, "2026-01-01 00:00:00"]]], {}) == (
        {"fields": [".id", "date"], "data": [[1, "2026-01-01 00:00:00"]]}, False)


def test_one_record_create_is_sent_as_a_list_and_answered_as_one_id():
    assert json2_body("create", [{"name": "x"}], {}) == ({"vals_list": [{"name": "x"}]}, True)
    assert json2_body("create", [[{"name": "x"}, {"name": "y"}]], {}) == ({"vals_list": [{"name": "x"}, {"name": "y"}]}, False)


def test_an_argument_json2_cannot_name_is_refused_before_sending():
    with pytest.raises(OdooProgrammingError, match="by keyword"):
        json2_body("button_validate", [[1], "extra"], {})
    with pytest.raises(OdooProgrammingError, match="given twice"):
        json2_body("search_read", [[]], {"domain": []})


@pytest.fixture
def standin19():
    with OdooStandIn(build(version="19")) as server:
        yield server


def _client(server, key: str = "standin-etl-api-key", protocol: str = "json2") -> OdooClient:
    return OdooClient(OdooSettings(url=server.url, database="odoo3pl", login="etl", password=key, protocol=protocol, max_retries=0))


def test_auto_speaks_json2_to_19_and_answers_as_the_other_protocols(standin19):
    auto, xml = _client(standin19, protocol="auto"), _client(standin19, key="etl", protocol="xmlrpc")
    assert auto.protocol == "json2" and auto.major == 19
    assert auto.uid == xml.uid
    domain = [["code", "in", ["WH", "3PL"]]]
    assert auto.execute("stock.warehouse", "search_read", domain, fields=["code"], order="id") == \
        xml.execute("stock.warehouse", "search_read", domain, fields=["code"], order="id")
    pid = auto.execute("res.partner", "create", {"name": "JSON-2 partner"})
    assert isinstance(pid, int) and xml.execute("res.partner", "read", [pid], fields=["name"])[0]["name"] == "JSON-2 partner"
    assert auto.server_time().tzinfo is not None
    assert standin19.env.calls["res.partner.create"] == 1


def test_json2_errors_are_typed_like_the_others(standin19):
    client = _client(standin19)
    with pytest.raises(OdooProgrammingError, match="does not exist"):
        client.execute("no.such.model", "search", [])
    with pytest.raises(OdooProgrammingError):
        client.execute("res.partner", "frobnicate", [1])
    with pytest.raises(OdooMissingError):
        client.execute("res.partner", "write", [999999], {"name": "x"})
    with pytest.raises(OdooAccessError):
        client.execute("ir.model.data", "search_read", [], fields=["name"], limit=1)
    with pytest.raises(OdooProgrammingError, match="the model 'stock.valuation.layer' does not exist"):
        client.execute("stock.valuation.layer", "search", [])  # gone in 19: an unknown model, HTTP 404
    with pytest.raises(OdooAuthError, match="API key"):
        _client(standin19, key="etl").uid  # a password is not a key
    with pytest.raises(OdooError, match="no JSON-2"):
        with OdooStandIn(build(version="17")) as server17:
            _client(server17).uid
