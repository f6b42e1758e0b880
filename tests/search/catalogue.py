"""A fixed catalogue made for search tests: ~200 products and the queries whose best match is known.

Named products are the answers; the fillers (generated from everyday goods) and a few near misses (羽绒被 beside
羽绒服, a scarf whose description mentions 羽绒服, a 卫衣 whose description says 天蓝色) are what a query must rank
below its answer. Merchant `b` keeps 花西子 in its dictionary; merchant `c` has its own synonym 卫衣 = hoodie.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    category: str = "daily-goods"
    description: str = ""
    merchant: str = "a"
    price: int = 9900
    colours: tuple[str, ...] = ()
    sku: str | None = None
    barcode: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


NAMED: list[Item] = [
    Item("down", "男士羽绒服 加厚连帽", "apparel", "冬季保暖，白鸭绒填充", price=59900, colours=("黑色", "藏青色")),
    Item("duvet", "羽绒被 冬季加厚", "home", "九孔纤维 双人", price=39900),
    Item("scarf", "羊毛围巾 纯色", "apparel", "搭配羽绒服更暖和，百搭", price=12900),
    Item("wool_desc", "针织开衫 女款", "apparel", "含30%羊毛，柔软亲肤", price=15900),
    Item("huaxizi", "花西子 空气蜜粉 定妆", "daily-goods", "轻薄控油", merchant="b", price=14900),
    Item("lookalike", "西子湖畔 花茶 礼盒", "agri", "杭州特产", price=1990),
    Item("mate", "华为 Mate 60 Pro 手机 12GB", "appliances", "卫星通话", price=699900),
    Item("case", "Apple iPhone 15 手机壳 硅胶", "daily-goods", "防摔 全包", price=5900),
    Item("rice", "有机大米 东北五常 5kg", "agri", "当季新米，稻花香", price=8800),
    Item("tshirt", "纯棉T恤 男款 短袖", "apparel", "夏季透气", price=7900, colours=("白色", "黑色")),
    Item("nike", "Nike 跑步鞋 Running Shoes", "apparel", "缓震 透气 网面", price=49900),
    Item("jacket", "Outdoor Jacket 冲锋衣 防水", "apparel", "三合一 可拆卸内胆", price=89900),
    Item("tv", "小米 电视 65英寸 4K", "appliances", "远场语音", price=299900),
    Item("fridge", "海尔 冰箱 双开门 风冷无霜", "appliances", "一级能效", price=359900),
    Item("noodle", "重庆小面 麻辣 速食", "fresh", "地道风味", price=2990),
    Item("cardholder", "银行卡套 真皮 多卡位", "daily-goods", "超薄", price=3900),
    Item("trousers", "长裤 休闲 直筒", "apparel", "弹力面料", price=12900),
    Item("earphone", "蓝牙耳机 主动降噪", "appliances", "长续航", price=29900),
    Item("powerbank", "充电宝 20000毫安 快充", "appliances", "双向快充", price=12900),
    Item("tomato", "新鲜番茄 500g 自然熟", "fresh", "现摘现发", price=990),
    Item("potato", "土豆 黄心 2.5kg", "fresh", "农家种植", price=1590),
    Item("laptop", "笔记本电脑 轻薄 14英寸", "appliances", "长续航 办公", price=459900),
    Item("dress", "碎花连衣裙 夏季 收腰", "apparel", "雪纺面料", price=19900, colours=("粉色", "蓝色")),
    Item("flask", "保温杯 不锈钢 500ml", "daily-goods", "316 内胆", price=6900, sku="BWB-316-500",
         barcode="6901234567892"),
    Item("hoodie", "运动卫衣 加绒", "apparel", "宽松版型", merchant="c", price=15900, colours=("天蓝色", "灰色")),
    Item("hoodie_other", "卫衣 连帽 男", "apparel", "经典天蓝色配色", price=13900, colours=("黑色",)),
    Item("tea", "西湖龙井 明前 250g", "agri", "杭州西湖产区", price=32900),
    Item("honey", "土蜂蜜 百花 1kg", "agri", "农家自产 无添加", price=6800),
    Item("pan", "不粘锅 炒锅 32cm", "home", "麦饭石涂层 燃气电磁炉通用", price=16900),
    Item("lamp", "护眼台灯 LED 学习", "home", "无频闪 三档调光", price=9900),
    Item("books", "三体 全集 刘慈欣", "books-media", "科幻小说 典藏版", price=9900),
    Item("fertiliser", "复合肥 50kg 氮磷钾", "production-materials", "农用 缓释", price=18900),
    Item("clean", "家政保洁 日常保洁 3小时", "services", "上门服务", price=15900),
    Item("socks", "Wool Socks 羊毛袜 三双装", "apparel", "加厚 保暖", price=5900),
    Item("kettle", "电热水壶 1.7L 304不锈钢", "appliances", "自动断电", price=8900),
]

# (query, the key of the product that must come first). Chinese words, mixed Chinese and Latin, pinyin full
# and in part, initials, typos, platform and merchant synonyms, a merchant's brand word, SKU and barcode.
QUERIES: list[tuple[str, str]] = [
    ("羽绒服", "down"),
    ("羽绒 服 男", "down"),
    ("男士羽绒服", "down"),
    ("绒服", "down"),
    ("羽容服", "down"),
    ("羽绒被", "duvet"),
    ("yurongfu", "down"),
    ("yu rong fu", "down"),
    ("yrf", "down"),
    ("yurongbei", "duvet"),
    ("down jacket", "down"),
    ("羽绒衣", "down"),
    ("围巾", "scarf"),
    ("羊毛围巾", "scarf"),
    ("花西子", "huaxizi"),
    ("花西子蜜粉", "huaxizi"),
    ("华为手机", "mate"),
    ("华为 移动电话", "mate"),
    ("huawei", "mate"),
    ("mate 60", "mate"),
    ("iphone手机壳", "case"),
    ("iPhone 15 手机壳", "case"),
    ("手机壳", "case"),
    ("大米", "rice"),
    ("五常大米", "rice"),
    ("rice", "rice"),
    ("dami", "rice"),
    ("T恤", "tshirt"),
    ("T-shirt", "tshirt"),
    ("tee", "tshirt"),
    ("纯棉", "tshirt"),
    ("Nike 跑步鞋", "nike"),
    ("running shoes", "nike"),
    ("paobuxie", "nike"),
    ("jacket", "jacket"),
    ("jackte", "jacket"),
    ("冲锋衣", "jacket"),
    ("chongfengyi", "jacket"),
    ("cfy", "jacket"),
    ("电视", "tv"),
    ("television", "tv"),
    ("xiaomi", "tv"),
    ("xiaomj", "tv"),
    ("runing shoes", "nike"),
    ("冰箱", "fridge"),
    ("fridge", "fridge"),
    ("haier", "fridge"),
    ("chongqing", "noodle"),
    ("yinhang", "cardholder"),
    ("changku", "trousers"),
    ("耳机", "earphone"),
    ("headphone", "earphone"),
    ("power bank", "powerbank"),
    ("移动电源", "powerbank"),
    ("西红柿", "tomato"),
    ("马铃薯", "potato"),
    ("laptop", "laptop"),
    ("连衣裙", "dress"),
    ("dress", "dress"),
    ("lyq", "dress"),
    ("BWB-316-500", "flask"),
    ("6901234567892", "flask"),
    ("天蓝色 卫衣", "hoodie"),
    ("hoodie", "hoodie"),
    ("龙井", "tea"),
    ("longjing", "tea"),
    ("蜂蜜", "honey"),
    ("不粘锅", "pan"),
    ("台灯", "lamp"),
    ("三体", "books"),
    ("复合肥", "fertiliser"),
    ("保洁", "clean"),
    ("wool socks", "socks"),
    ("热水壶", "kettle"),
]

_ADJECTIVES = ("经典", "时尚", "简约", "复古", "舒适", "轻奢", "家用", "便携")
_GOODS = (("收纳盒", "home"), ("毛巾", "daily-goods"), ("抱枕", "home"), ("雨伞", "daily-goods"),
          ("拖鞋", "apparel"), ("背包", "apparel"), ("帽子", "apparel"), ("钱包", "daily-goods"),
          ("围裙", "home"), ("花瓶", "home"), ("餐具", "home"), ("砧板", "home"), ("衣架", "home"),
          ("地毯", "home"), ("窗帘", "home"), ("相框", "home"), ("镜子", "home"), ("挂钟", "home"),
          ("Storage Box", "home"), ("Travel Mug", "daily-goods"))


def fillers() -> list[Item]:
    out = []
    for i, (good, category) in enumerate(_GOODS):
        for j, adj in enumerate(_ADJECTIVES):
            out.append(Item(f"filler{i}_{j}", f"{adj}{good} 款式{i * 8 + j}", category, f"{adj}风格 日常使用",
                            price=990 + 500 * (i * 8 + j)))
    return out
