"""<partner>_receipts_to_3pl: expected receipts announced to the 3PL (ASNs); held ones say why.

Docs, default schedule and document kind: threepl_bridge/registry.py (`receipts_to_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import asn, attention
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("receipts_to_3pl"):

    @dag(**kwargs)
    def receipts_to_3pl() -> None:
        prepared = asn.prepare(code, asn.watch(code, asn.settle(code)))
        asn.notes(code, prepared, asn.deliver(code, prepared)) >> attention.needs_a_person(code, "receipts_to_3pl")

    receipts_to_3pl()
