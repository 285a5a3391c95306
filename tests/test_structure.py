"""The package's shape: small flow and ledger modules, imports only downwards, the Airflow adapter on its own."""

from __future__ import annotations

import ast

from tests.conftest import REPO

PACKAGE = REPO / "plugins" / "threepl_bridge"
# lower number = lower layer; a module may import its own layer or lower ones only
LAYERS = {"registry": 0, "codes": 0, "errors": 0, "specs": 1, "formats": 2, "transport": 2, "odoo": 2, "ledger": 3,
          "quality": 3, "flows": 4, "reports": 4, "__main__": 6, "airflow": 7}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[1]] if module.count(".") else 0


def test_flow_and_ledger_modules_stay_small():
    big = {p.name: n for folder in ("flows", "ledger") for p in (PACKAGE / folder).glob("*.py")
           if (n := len(p.read_text().splitlines())) > 350}
    assert big == {}


def test_imports_only_run_downwards():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        me = ".".join(rel.parts)
        mine = LAYERS[rel.parts[1]] if len(rel.parts) > 1 and rel.parts[1] in LAYERS else LAYERS.get(rel.parts[-1], 0)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("threepl_bridge."):
                if _layer(node.module) > mine:
                    wrong.append(f"{me} imports {node.module}")
    assert wrong == []


def test_only_the_adapter_imports_airflow_and_the_package_root_holds_no_adapter_module():
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "airflow" or n.startswith("airflow.") for n in names):
                importers.add(path.relative_to(PACKAGE).parts[0])
    # Airflow connections are read where a resource is made (SFTP hook, Odoo hook, the ledger's threepl_bridge
    # connection), inside functions, never at import
    assert importers <= {"airflow", "transport", "odoo", "ledger"}
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root == {"__init__", "__main__", "codes", "errors", "quality", "registry"}
