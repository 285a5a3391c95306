"""Uploading what a flow staged in the ledger (shared by the products and orders tasks)."""

from __future__ import annotations


def deliver_files(code: str, kind: str, run_id: str | None) -> list[str]:
    """Upload every staged file of ``kind`` (a file interrupted earlier is settled first); returns path (outcome)."""
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.outbound import deliver_pending

    p = resources.partner(code)
    deliveries = deliver_pending(resources.ledger(), resources.transport(p), p, kind, run_id=run_id)
    return [f"{d.path} ({d.outcome})" for d in deliveries]
