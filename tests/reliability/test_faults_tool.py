"""The fault proxy itself: each mode does what the reliability tests rely on (applied or not, seen as what)."""

from __future__ import annotations

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from tests.faults import FaultyOdoo
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooAccessError, OdooError, OdooTransientError


@pytest.fixture(params=["xmlrpc", "jsonrpc"])
def pair(request):
    env = build(etl_email="etl@example.com")
    with OdooStandIn(env) as odoo, FaultyOdoo(odoo.url) as proxy:
        client = OdooClient(OdooSettings(url=proxy.url, database="odoo3pl", login="etl", password="standin-etl-api-key",
                                         protocol=request.param, backoff=0.0))
        yield env, proxy, client


def _partner_name(client: OdooClient, pid: int) -> str:
    return client.execute("res.partner", "read", [pid], ["name"])[0]["name"]


def test_lost_reply_applies_the_write_and_is_ambiguous(pair):
    env, proxy, client = pair
    proxy.fail("write", "lost_reply")
    with pytest.raises(OdooTransientError) as info:
        client.execute("res.partner", "write", [10], {"name": "Changed"})
    assert info.value.ambiguous is True  # type: ignore[attr-defined]
    assert _partner_name(client, 10) == "Changed"
    assert proxy.calls("write") == ["lost_reply"]  # not resent


def test_timeout_unapplied_is_ambiguous_and_applies_nothing(pair):
    env, proxy, client = pair
    before = _partner_name(client, 10)
    proxy.fail("write", "timeout_unapplied")
    with pytest.raises(OdooTransientError):
        client.execute("res.partner", "write", [10], {"name": "Changed"})
    assert _partner_name(client, 10) == before


def test_a_502_longer_than_the_retries_is_transient_and_not_ambiguous(pair):
    env, proxy, client = pair
    proxy.fail("write", "502", times=100)
    with pytest.raises(OdooTransientError) as info:
        client.execute("res.partner", "write", [10], {"name": "Changed"})
    assert info.value.ambiguous is False  # type: ignore[attr-defined]
    assert len(proxy.calls("write")) == client.settings.max_retries + 1


def test_serialization_failure_is_retried_and_access_error_is_not(pair):
    env, proxy, client = pair
    proxy.fail("write", "serialization")
    assert client.execute("res.partner", "write", [10], {"name": "After retry"}) is True
    assert proxy.calls("write") == ["serialization", "forward"]
    proxy.fail("write", "access")
    with pytest.raises(OdooAccessError):
        client.execute("res.partner", "write", [10], {"name": "x"})
    assert isinstance(OdooAccessError("x"), OdooError)
