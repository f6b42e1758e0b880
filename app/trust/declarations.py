"""The statutory texts shown for sellers who need no registration (ECL art. 10, NTM arts. 8 and 12)."""

from __future__ import annotations

# NTM art. 12: an unregistered individual shows a self-declaration instead of a licence. Sellers who did not
# choose one of the four grounds are shown the general one (small, occasional trading).
SELF_DECLARATIONS: dict[str, str] = {
    "sporadic_small": "本店经营者为个人，依据《中华人民共和国电子商务法》第十条，从事零星小额交易活动，"
                      "依法无须办理市场主体登记。",
    "own_farm_produce": "本店经营者为个人，依据《中华人民共和国电子商务法》第十条，销售自产农副产品，"
                        "依法无须办理市场主体登记。",
    "family_handicraft": "本店经营者为个人，依据《中华人民共和国电子商务法》第十条，销售家庭手工业产品，"
                         "依法无须办理市场主体登记。",
    "convenience_services": "本店经营者为个人，依据《中华人民共和国电子商务法》第十条，利用自己的技能从事"
                            "依法无须取得许可的便民劳务活动，依法无须办理市场主体登记。",
}
DEFAULT_DECLARATION = "sporadic_small"
MASKED_NOTICE = "该评价内容因违反法律法规已被屏蔽。"
UNREGISTERED_BADGE = "未登记个人卖家 · unregistered individual seller"
