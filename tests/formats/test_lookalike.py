from threepl_bridge.formats.lookalike import lookalikes, skeleton


def test_codes_that_only_look_alike_share_a_skeleton():
    known = ["FURN_7800", "FURN_7801", "CHEAP-1"]
    for twin in ("FURN_78\u041e\u041e", "furn 7800", "FURN_\u200b7800", "ＦＵＲＮ＿７８００", "FURN-78OO"):
        assert lookalikes(twin, known) == ["FURN_7800"], twin
    assert lookalikes("CHEAP-I", known) == ["CHEAP-1"]
    assert lookalikes("NOPE_0001", known) == [] and lookalikes("FURN_7800", known) == []  # itself is not a lookalike
    assert skeleton("\u200b") == "" and lookalikes("\u200b", known) == []
