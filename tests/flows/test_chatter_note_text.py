"""The chatter note a posting writes is text: a 3PL file's tracking reference with markup in it is shown as written,
never as HTML, and a retry recognises the note it wrote (mail.message.body parses a string as HTML, contract
R13_chatter_note_body), so the note is never doubled."""

from __future__ import annotations

import pytest

from tests.flows.conftest import dispatch_csv, drop
from tests.flows.test_posting_recovery import kill_after, notes, run
from threepl_bridge.ledger.states import State


def test_a_tracking_reference_with_markup_is_noted_once_as_text_after_a_retry(world, released, monkeypatch):
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_M.csv",
         dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP<b>1</b>&2,P1"]))
    with monkeypatch.context() as patch:  # killed right after the note was written, before its step was recorded
        kill_after(patch, world.odoo, "create_many", lambda model, _values: model == "mail.message")
        with pytest.raises(SystemExit):
            run(world)
    [result] = run(world)
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    [body] = notes(world, one["id"])
    assert body.endswith(", tracking TP&lt;b&gt;1&lt;/b&gt;&amp;2.</p>") and "<b>" not in body
