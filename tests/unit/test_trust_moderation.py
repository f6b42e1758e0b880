from app.catalog.moderation import ListingPolicy, clause_errors, held_for, matches, policy_from
from app.config import Settings

POLICY = ListingPolicy()


def test_chinese_words_match_as_substrings_even_spaced_or_full_width() -> None:
    assert held_for({"title": "高仿真枪模型"}, POLICY) == ["仿真枪"]
    assert matches("本店拥有最 终 解 释 权", POLICY.forbidden_clauses) == ["最终解释权"]
    assert matches("ＡＬＬ ＳＡＬＥＳ ＦＩＮＡＬ", POLICY.forbidden_clauses) == ["all sales final"]


def test_english_words_match_whole_words_only() -> None:
    assert held_for({"title": "Ivory soap"}, POLICY) == ["ivory"]
    assert held_for({"title": "ivorycoast cocoa"}, POLICY) == []
    assert held_for({"description": "No heroin-chic here"}, POLICY) == ["heroin"]
    assert held_for({"title": "Heroine action figure"}, POLICY) == []


def test_clause_errors_name_each_field() -> None:
    errors = clause_errors({"title": "清仓 概不退换", "description": "正常描述"}, POLICY)
    assert [e["field"] for e in errors] == ["title"] and "概不退换" in errors[0]["message"]
    assert clause_errors({"title": "七天无理由退货", "description": "支持退换"}, POLICY) == []


def test_settings_extend_the_list() -> None:
    policy = policy_from(Settings(shop_prohibited_words="野生菌, wild ginseng，熊胆"))
    assert held_for({"title": "熊胆粉"}, policy) == ["熊胆"]
    assert held_for({"title": "Wild  Ginseng"}, policy) == ["wild ginseng"]
    assert set(POLICY.prohibited) < set(policy.prohibited)
