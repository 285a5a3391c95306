"""An Odoo 17 stand-in for tests and the demo, faithful to ../shared/odoo17-contract (never imported by the
product). ``python -m sandbox.odoo_standin`` runs it; ``build()`` + ``OdooStandIn`` run it in-process."""

from sandbox.odoo_standin.seed import ADMIN_UID, CASE_UOM_ID, ETL_UID, build
from sandbox.odoo_standin.server import OdooStandIn

__all__ = ["ADMIN_UID", "CASE_UOM_ID", "ETL_UID", "OdooStandIn", "build"]
