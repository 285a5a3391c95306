"""Outbound files honour the partner's completion rule, on both real SSH servers: a reader that only takes a
file once its marker exists never sees a partial file, and an interrupted delivery is completed by the next one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import REPO
from threepl_bridge.flows.outbound import deliver_pending, stage_file
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.specs.models import CompleteRule, Partner
from threepl_bridge.transport.sftp import SftpTransport

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
DATA = b"sku,name\r\nFURN_7800,Desk\r\n"


def partner_on(sftp, complete: dict) -> Partner:
    demo = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    data = demo.spec.model_dump()
    data["sftp"]["conn_id"] = sftp.conn_id
    data["documents"]["products"].update(folder=sftp.remote("to_3pl", "items"), complete=complete)
    return Partner(spec=type(demo.spec).model_validate(data), layouts=demo.layouts, source=demo.source)


def stage(ledger: Ledger, partner: Partner) -> int:
    doc = partner.document("products")
    return stage_file(ledger, partner=partner.code, kind="products", folder=doc.folder, template=doc.name_template or "",
                      when=WHEN, data=DATA, products=[])


def taken_by_the_3pl(transport: SftpTransport, partner: Partner) -> list[str]:
    """What a 3PL that waits for the marker picks up."""
    doc = partner.document("products")
    return [f.name for f in transport.list_complete(doc.folder, "ITEMS_*.csv", CompleteRule(rule="marker", marker_suffix=doc.complete.marker_suffix))]


def test_a_marker_is_written_after_the_data_file_with_the_configured_suffix_and_content(sftp, tmp_path):
    partner = partner_on(sftp, {"rule": "marker", "marker_suffix": ".done", "marker_content": "{name} {size} {sha256}\n"})
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    transport = SftpTransport(sftp.conn_id)
    eid = stage(ledger, partner)
    [delivery] = deliver_pending(ledger, transport, partner, "products")
    name = ledger.exchange(eid).remote_name
    assert (delivery.outcome, ledger.exchange(eid).state) == ("uploaded", State.OUTPUT_SENT)
    assert taken_by_the_3pl(transport, partner) == [name]
    folder = sftp.local_path("to_3pl", "items")
    marker = (folder / f"{name}.done").read_text()
    assert marker == f"{name} {len(DATA)} {ledger.exchange(eid).sha256}\n"
    assert sorted(p.name for p in folder.iterdir()) == [name, f"{name}.done"]  # no temporary file left behind


@pytest.mark.parametrize("rule", ["stable_size", "rename"])
def test_rules_without_a_marker_write_none(sftp, tmp_path, rule):
    partner = partner_on(sftp, {"rule": rule})
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    stage(ledger, partner)
    deliver_pending(ledger, SftpTransport(sftp.conn_id), partner, "products")
    assert len([p for p in sftp.local_path("to_3pl", "items").iterdir()]) == 1  # the data file alone


def test_interrupted_between_the_data_file_and_its_marker_the_next_delivery_completes_it(sftp, tmp_path, monkeypatch):
    partner = partner_on(sftp, {"rule": "marker"})
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    transport = SftpTransport(sftp.conn_id)
    eid = stage(ledger, partner)
    real_write = SftpTransport.write_part

    def dies_at_the_marker(self, folder, part, data):
        if ".ok." in part:  # the marker's temporary file
            raise ConnectionResetError("connection dropped before the marker")
        return real_write(self, folder, part, data)

    monkeypatch.setattr(SftpTransport, "write_part", dies_at_the_marker)
    with pytest.raises(ConnectionResetError):
        deliver_pending(ledger, transport, partner, "products")
    name = ledger.exchange(eid).remote_name
    assert (sftp.local_path("to_3pl", "items") / name).read_bytes() == DATA
    assert taken_by_the_3pl(transport, partner) == []  # the 3PL does not take a file without its marker
    assert ledger.exchange(eid).state == State.OUTPUT_PENDING
    monkeypatch.setattr(SftpTransport, "write_part", real_write)
    [delivery] = deliver_pending(ledger, transport, partner, "products")
    assert (delivery.outcome, ledger.exchange(eid).state) == ("completed_marker", State.OUTPUT_SENT)
    assert taken_by_the_3pl(transport, partner) == [name]
    assert deliver_pending(ledger, transport, partner, "products") == []


def test_interrupted_mid_upload_leaves_no_marker_beside_a_partial_file(sftp, tmp_path, monkeypatch):
    partner = partner_on(sftp, {"rule": "marker"})
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    transport = SftpTransport(sftp.conn_id)
    eid = stage(ledger, partner)
    monkeypatch.setattr(SftpTransport, "_rename_over", lambda self, sftp_, source, target: (_ for _ in ()).throw(OSError("drop")))
    with pytest.raises(OSError):
        deliver_pending(ledger, transport, partner, "products")
    folder = sftp.local_path("to_3pl", "items")
    # neither a data file nor a marker; only the hidden complete temporary file the next attempt renames
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []
    assert taken_by_the_3pl(transport, partner) == []
    monkeypatch.undo()
    [delivery] = deliver_pending(ledger, transport, partner, "products")
    name = ledger.exchange(eid).remote_name
    assert delivery.outcome == "completed_part"
    assert sorted(p.name for p in folder.iterdir()) == [name, f"{name}.ok"]
    assert taken_by_the_3pl(transport, partner) == [name]
