"""header_list: the headers an import error names, capped whatever the file holds."""
from portal.core.tabular import header_list


def test_few_short_headers_are_listed_whole():
    assert header_list(["姓名", "", "电话"]) == "姓名、电话"
    assert header_list(["", None]) == "（无）"


def test_many_long_headers_are_capped():
    headers = [f"第{i}列" + "长" * 200 for i in range(5000)]
    text = header_list(headers)
    assert text.endswith(" 等 5000 列")
    shown = text.removesuffix(" 等 5000 列").split("、")
    assert len(shown) == 20 and shown[0] == ("第0列" + "长" * 200)[:30] + "…"
    assert len(text) < 20 * 32 + 20
