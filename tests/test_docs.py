"""The documentation keeps up with the code: every exception code is documented for operators."""

from tests.conftest import REPO
from threepl_bridge.codes import CODES


def test_every_exception_code_is_in_the_operator_docs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_exceptions", REPO / "docs" / "gen_exceptions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (REPO / "docs" / "exceptions.md").read_text()
    assert text == module.render(), "docs/exceptions.md is stale: run python docs/gen_exceptions.py"
    assert all(f"`{code}`" in text for code in CODES)


def test_flow_modules_only_raise_documented_codes():
    import re

    used = set()
    for path in (REPO / "plugins" / "threepl_bridge" / "flows").glob("*.py"):
        used |= set(re.findall(r'"((?:PRODUCT|ORDER|DISPATCH|STOCK|RECEIPT)_[A-Z_]+)"', path.read_text()))
    assert used - set(CODES) == set()
