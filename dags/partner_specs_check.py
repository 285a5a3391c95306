"""Surfaces broken partner specs as an import error in the Airflow UI ("Broken DAG"), naming the file, the key
and the reason. The partners whose specs load keep their DAGs: those are built by the other DAG files."""

from threepl_bridge.specs.loader import discover_partners

_errors = discover_partners().errors
if _errors:
    raise ValueError("partner spec(s) could not be loaded:\n" + "\n".join(str(e) for e in _errors))
