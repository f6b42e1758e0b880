from hypothesis import given
from hypothesis import strategies as st

from app.catalog.search import index_tokens, normalise, query_terms, query_tokens


def test_chinese_substring_tokens_are_in_the_text():
    text = "男士羽绒服 Men's Down Jacket"
    assert set(query_tokens(["羽绒"])) <= set(index_tokens(text))
    assert set(query_tokens(["羽"])) <= set(index_tokens(text))
    assert set(query_tokens(["jacket"])) <= set(index_tokens(text))


def test_tokens_of_a_non_substring_are_missing():
    assert not set(query_tokens(["羽毛"])) <= set(index_tokens("男士羽绒服"))


def test_short_latin_terms_have_no_tokens_and_fall_back_to_like():
    assert query_tokens(["xl"]) == []


def test_full_width_letters_fold_to_ascii():
    assert normalise("ＪＡＣＫＥＴ") == "jacket"


def test_query_terms_are_bounded():
    assert len(query_terms(" ".join(["a"] * 50))) == 8
    assert len(query_terms("x" * 500)[0]) == 64


cjk = st.text(alphabet="羽绒服男士女大米有机茶", min_size=1, max_size=12)
latin = st.text(alphabet="abcdefghij0123", min_size=1, max_size=12)
texts = st.lists(st.one_of(cjk, latin), min_size=1, max_size=6).map(" ".join)


@given(texts, st.data())
def test_every_substring_is_found_by_its_tokens(text: str, data: st.DataObject) -> None:
    """The index can only narrow: no substring of the text is ever lost (no false negatives)."""
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    terms = query_terms(text[start:end])
    assert set(query_tokens(terms)) <= set(index_tokens(text))
