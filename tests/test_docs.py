"""The documentation keeps up with the code: every exception code is documented for operators."""

from tests.conftest import REPO
from threepl_bridge.codes import CODES


def test_every_exception_code_is_in_the_operator_docs():
    text = (REPO / "docs" / "exceptions.md").read_text()
    missing = [code for code in CODES if f"`{code}`" not in text]
    assert missing == [], f"document these codes in docs/exceptions.md: {missing}"


def test_flow_modules_only_raise_documented_codes():
    import re

    used = set()
    for path in (REPO / "plugins" / "threepl_bridge" / "flows").glob("*.py"):
        used |= set(re.findall(r'"((?:PRODUCT|ORDER|DISPATCH|STOCK|RECEIPT)_[A-Z_]+)"', path.read_text()))
    assert used - set(CODES) == set()
