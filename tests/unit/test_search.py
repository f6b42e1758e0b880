"""Text analysis and query expressions, without a database."""

from hypothesis import given
from hypothesis import strategies as st

from app.catalog.search import query, text
from app.catalog.search.query import All, Any_, Expr, Tok


def _matches(expr: Expr, tokens: set[str]) -> bool:
    """What both databases do with an expression: a prefix token matches any token starting with it."""
    if isinstance(expr, Tok):
        return any(t.startswith(expr.value) for t in tokens) if expr.prefix else expr.value in tokens
    if isinstance(expr, All):
        return all(_matches(p, tokens) for p in expr.parts)
    assert isinstance(expr, Any_)
    return any(_matches(p, tokens) for p in expr.parts)


def _title_tokens(title: str) -> set[str]:
    doc = text.document(title=title, description="", extra=[])
    return set(doc.title.split()) | set(doc.pinyin.split())


def _finds(q: str, title: str) -> bool:
    expr = query.build(text.query_terms(q))
    return expr is not None and _matches(expr, _title_tokens(title))


def test_words_parts_of_words_pinyin_and_initials_find_a_title():
    title = "男士羽绒服 Men's Down Jacket"
    for q in ["羽绒服", "羽绒", "羽", "绒服", "男士 羽绒服", "羽绒 服 男", "jacket", "JACKETS", "jack", "down jack",
              "yurongfu", "yu rong fu", "yurong", "yrf", "nanshi"]:
        assert _finds(q, title), q
    for q in ["羽毛", "羽绒 rice", "jacket rice", "yrb"]:
        assert not _finds(q, title), q


def test_polyphonic_characters_take_the_reading_of_their_word():
    assert text.pinyin("重庆") == ("chongqing", "cq")
    assert text.pinyin("银行") == ("yinhang", "yh")
    assert text.pinyin("羽绒服") == ("yurongfu", "yrf")
    assert text.pinyin("jacket") == ("", "")


def test_a_dictionary_word_is_kept_whole():
    assert "花西子" not in text.words("花西子 蜜粉")
    assert "花西子" in text.words("花西子 蜜粉", ["花西子"])
    assert text.query_words("花西子蜜粉", ["花西子"])[0] == "花西子"


def test_synonyms_and_whole_query_synonyms_are_alternatives():
    index = {"tshirt": ["t恤"], "downjacket": ["羽绒服"]}
    assert _matches(query.build(["tshirt"], synonyms=index) or Tok(""), _title_tokens("纯棉T恤"))
    assert _matches(query.build(["down", "jacket"], synonyms=index) or Tok(""), _title_tokens("男士羽绒服"))
    assert not _matches(query.build(["down", "jacket"]) or Tok(""), _title_tokens("男士羽绒服"))


def test_full_width_letters_fold_to_ascii_and_terms_are_bounded():
    assert text.normalise("ＪＡＣＫＥＴ") == "jacket"
    assert text.query_terms("T-shirt  羽绒服！") == ["tshirt", "羽绒服"]
    assert len(text.query_terms(" ".join(["a"] * 50))) == 8
    assert len(text.query_terms("x" * 500)[0]) == 40
    assert text.query_terms("% _ ' \" *") == []


def test_expressions_are_written_out_for_each_database():
    expr = query.build(["羽绒服", "l"])
    assert expr is not None
    assert query.tsquery(Tok("a'b", prefix=True)) == "'a''b':*"
    assert query.exact(Tok("ab", prefix=True)) == Tok("ab") and ":*" not in query.tsquery(query.exact(expr))
    assert query.fts5(Tok('a"b', prefix=True)) == '"a""b"*'
    assert query.fts5(expr, ("title",)).startswith("{title} : (")
    assert "'羽绒服':*" in query.tsquery(expr) and " & " in query.tsquery(expr)


def test_trigram_similarity_is_pg_trgms():
    # pg_trgm: similarity('jacket', 'jackte') = 0.4, similarity('word', 'two words') = 0.363636...
    assert abs(text.similarity("jacket", "jackte") - 0.4) < 1e-9
    assert abs(text.similarity("word", "two words") - 4 / 11) < 1e-9
    assert text.similarity("", "x") == 0.0


cjk = st.text(alphabet="羽绒服男士女大米有机茶叶红色冬季", min_size=1, max_size=12)


@given(st.lists(cjk, min_size=1, max_size=4).map(" ".join), st.data())
def test_every_part_of_a_chinese_title_finds_it(title: str, data: st.DataObject) -> None:
    """No false negatives: any run of characters taken from the title (within a word of it) finds the title."""
    words = title.split()
    word = data.draw(st.sampled_from(words))
    start = data.draw(st.integers(0, len(word) - 1))
    end = data.draw(st.integers(start + 1, len(word)))
    assert _finds(word[start:end], title)
