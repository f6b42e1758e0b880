"""Deterministic, pure demo data set for Liutong (流通).

Everything here is generated from compact tables (base items x styles x variant axes) and a stable
SHA-256 based hash, so two calls to :func:`merchants` always return equal data. No database, no I/O.
Prices are integer fen (1 CNY = 100 fen).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from functools import cache

from app.core.uscc import uscc_check_char
from app.core.uscc import uscc_is_valid as uscc_is_valid  # re-exported for callers of the demo data

# fmt: off
CATEGORIES: tuple[str, ...] = (
    "apparel", "appliances", "home", "books-media", "agri", "daily-goods",
    "production-materials", "fresh", "services",
)
# fmt: on
LOCATION_KINDS: tuple[str, ...] = ("warehouse", "store", "pickup_point")

PUBLISHED_USCC_SAMPLE = "91350100M000100Y43"


@dataclass(frozen=True)
class TierSpec:
    min_qty: int
    unit_price: int


@dataclass(frozen=True)
class WholesaleSpec:
    moq: int
    pack_size: int
    tiers: tuple[TierSpec, ...]


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    price: int
    attributes: dict[str, str]
    wholesale: WholesaleSpec | None


@dataclass(frozen=True)
class ProductSpec:
    title: str
    category: str
    description: str
    status: str
    variants: tuple[VariantSpec, ...]


@dataclass(frozen=True)
class AddressSpec:
    name: str
    phone: str
    line1: str
    district: str
    city: str
    province: str
    postal_code: str
    country: str = "CN"


@dataclass(frozen=True)
class LocationSpec:
    code: str
    name: str
    kind: str
    address: AddressSpec


@dataclass(frozen=True)
class MerchantSpec:
    key: str
    name: str
    kind: str
    licence_no: str
    icp_no: str | None
    contact_email: str
    trading_model: str
    locations: tuple[LocationSpec, ...]
    products: tuple[ProductSpec, ...]
    self_declaration: str | None = None  # unregistered individuals: their ground under ECL art. 10


# --------------------------------------------------------------------------- identifiers


def _h(*parts: object) -> int:
    """Stable 64-bit hash (unlike built-in hash(), independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _org_code(seed: str) -> str:
    """9-character organisation code (GB 11714): 8 digits plus its mod-11 check character."""
    body = f"{_h('org', seed) % 10**8:08d}"
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _uscc(division: str, seed: str) -> str:
    """Enterprise USCC: authority 9 (market regulation), type 1 (enterprise), 6-digit division code."""
    first17 = "91" + division + _org_code(seed)
    return first17 + uscc_check_char(first17)


def _icp(province_abbr: str, seed: str) -> str:
    return f"{province_abbr}ICP备{10_000_000 + _h('icp', seed) % 90_000_000}号-1"


# --------------------------------------------------------------------------- catalogue tables

_Opt = tuple[str, str, int]  # (label / zh, code / en, price percentage)
_Axis = tuple[str, tuple[_Opt, ...], int, int]  # (attribute name, options, min picked, max picked)
_Base = tuple[str, str, str, float, str]  # (sku code, zh name, en name, base price in yuan, zh blurb)


@dataclass(frozen=True)
class _Group:
    category: str
    mods: tuple[_Opt, ...]
    axes: tuple[_Axis, ...]
    bases: tuple[_Base, ...]
    tail: str
    title_fmt: str = "{mz}{bz} {me} {be}"
    packs: tuple[int, ...] = field(default=())  # non-empty: every variant gets wholesale terms


# fmt: off
_COLOURS: tuple[_Opt, ...] = (
    ("黑色", "BLK", 100), ("白色", "WHT", 100), ("藏青", "NVY", 100), ("灰色", "GRY", 100),
    ("卡其", "KHK", 100), ("红色", "RED", 100), ("米色", "BEG", 100), ("墨绿", "GRN", 100),
    ("雾蓝", "BLU", 100), ("粉色", "PNK", 100),
)
_ADULT = tuple((s, s, 100) for s in ("S", "M", "L", "XL", "XXL"))
_KIDS = tuple((s, s, 100) for s in ("110", "120", "130", "140", "150"))
_SHOES = tuple((s, s, 100) for s in ("38", "39", "40", "41", "42", "43", "44"))
_APPAREL_MODS: tuple[_Opt, ...] = (
    ("经典", "Classic", 100), ("轻薄", "Lightweight", 90), ("修身", "Slim-fit", 105),
    ("宽松", "Relaxed", 100), ("商务", "Business", 120), ("休闲", "Casual", 95),
    ("复古", "Retro", 110), ("加厚", "Thermal", 115),
)
_YS_TAIL = "雅衫服饰自有品牌，支持7天无理由退换（7-day free returns），满299元包邮。"

_APPAREL: tuple[_Group, ...] = (
    _Group("apparel", _APPAREL_MODS, (("colour", _COLOURS, 1, 2), ("size", _ADULT, 2, 3)), (
        ("DJ", "男士羽绒服", "Men's Down Jacket", 599, "90%白鸭绒填充，防风面料，零下15度依然温暖"),
        ("WDJ", "女士长款羽绒服", "Women's Long Down Coat", 799, "过膝长款，可拆卸毛领，通勤保暖两相宜"),
        ("VT", "羽绒马甲", "Down Vest", 329, "轻量内搭，便于收纳，Packable design"),
        ("TS", "男士T恤", "Men's T-Shirt", 79, "新疆长绒棉，亲肤透气，不易变形"),
        ("WTS", "女士T恤", "Women's T-Shirt", 69, "精梳棉面料，柔软垂顺，百搭基础款"),
        ("SH", "牛津纺衬衫", "Oxford Shirt", 159, "免烫工艺，挺括有型，适合通勤"),
        ("JN", "牛仔裤", "Jeans", 199, "弹力丹宁，直筒版型，耐穿耐洗"),
        ("DR", "连衣裙", "Dress", 259, "收腰设计，垂感面料，约会出游皆宜"),
        ("SW", "羊毛衫", "Wool Sweater", 229, "含30%羊毛，细腻保暖，不扎身"),
        ("HD", "连帽卫衣", "Hoodie", 169, "加绒内里，宽松落肩，运动休闲"),
        ("CH", "休闲裤", "Chinos", 179, "棉质斜纹，微弹舒适，四季可穿"),
        ("TC", "风衣", "Trench Coat", 499, "双排扣经典版型，防泼水面料"),
        ("SK", "半身裙", "Skirt", 139, "A字廓形，显瘦百搭"),
        ("PJ", "睡衣套装", "Pyjama Set", 129, "纯棉家居服，柔软亲肤"),
        ("SJ", "冲锋衣", "Outdoor Shell Jacket", 459, "防水透湿，Waterproof 10000mm，登山徒步必备"),
    ), _YS_TAIL),
    _Group("apparel", _APPAREL_MODS, (("colour", _COLOURS, 1, 2), ("size", _KIDS, 2, 3)), (
        ("KDJ", "儿童羽绒服", "Kids' Down Jacket", 299, "A类婴幼儿标准面料，轻盈保暖，活动自如"),
        ("KTS", "儿童T恤", "Kids' T-Shirt", 59, "A类纯棉，无荧光剂，宝宝放心穿"),
    ), _YS_TAIL),
    _Group("apparel", _APPAREL_MODS, (("colour", _COLOURS, 1, 2), ("size", _SHOES, 2, 3)), (
        ("SN", "运动鞋", "Sneakers", 329, "缓震中底，透气网面，日常跑步与通勤"),
        ("CS", "帆布鞋", "Canvas Shoes", 129, "硫化大底，耐磨防滑，经典百搭"),
    ), _YS_TAIL),
    _Group("apparel", _APPAREL_MODS, (("colour", _COLOURS, 2, 3), ("size", (("均码", "F", 100),), 1, 1)), (
        ("SC", "围巾", "Scarf", 89, "羊毛混纺，柔软不起球，秋冬保暖"),
    ), _YS_TAIL),
    _Group("home", (
        ("北欧", "Nordic", 100), ("日式", "Japanese-style", 105), ("简约", "Minimalist", 95),
        ("轻奢", "Premium", 130), ("条纹", "Striped", 100), ("格纹", "Checked", 100),
        ("卡通", "Cartoon", 90), ("新中式", "Neo-Chinese", 120),
    ), (("colour", _COLOURS[:4] + _COLOURS[6:], 1, 2),
        ("size", (("标准", "STD", 100), ("加大", "L", 120), ("特大", "XL", 145)), 2, 3)), (
        ("BD", "纯棉四件套", "Cotton Bedding Set (4 pcs)", 399, "40支纯棉，活性印染，不易褪色"),
        ("DV", "羽绒被", "Down Duvet", 699, "95%白鹅绒，蓬松轻盈，冬季加厚款"),
        ("TW", "浴巾", "Bath Towel", 69, "长绒棉，吸水性强，柔软不掉毛"),
        ("PL", "枕头", "Pillow", 99, "慢回弹记忆棉，护颈助眠"),
        ("CT", "遮光窗帘", "Blackout Curtain", 189, "遮光率95%，隔热降噪，可定制尺寸"),
    ), "雅衫家居系列，门店与线上同价，Free delivery within Shanghai。"),
)

_BOX: tuple[_Opt, ...] = (("5kg/箱", "5KG", 100), ("10kg/箱", "10KG", 190), ("15kg/箱", "15KG", 270))
_BAG: tuple[_Opt, ...] = (("5kg/袋", "5KG", 100), ("10kg/袋", "10KG", 190), ("25kg/袋", "25KG", 450))
_AGRI_MODS: tuple[_Opt, ...] = (
    ("精选", "Select", 110), ("一级", "Grade-A", 100), ("有机", "Organic", 150),
    ("产地直供", "Farm-direct", 95),
)
_PM_MODS: tuple[_Opt, ...] = (
    ("标准", "Standard", 100), ("高效", "High-efficiency", 125), ("进口", "Imported", 160),
    ("经济", "Economy", 85),
)
_LY_TAIL = "绿野农产品批发，寿光基地直发，支持整车发货与冷链物流（cold-chain logistics），量大从优。"

_AGRI: tuple[_Group, ...] = (
    _Group("agri", _AGRI_MODS, (("spec", _BOX, 2, 3),), (
        ("CUC", "寿光黄瓜", "Shouguang Cucumber", 35, "大棚种植，顶花带刺，清脆多汁"),
        ("TOM", "西红柿", "Tomato", 40, "沙瓤口感，自然成熟"),
        ("PEP", "彩椒", "Bell Pepper", 55, "红黄双色，果肉厚实"),
        ("EGP", "长茄子", "Long Eggplant", 30, "紫皮细长，肉质细嫩"),
        ("CAB", "大白菜", "Napa Cabbage", 18, "包心紧实，耐储运"),
        ("POT", "土豆", "Potato", 20, "黄心土豆，淀粉含量高"),
        ("CAR", "胡萝卜", "Carrot", 22, "色泽鲜红，口感甘甜"),
        ("SCL", "章丘大葱", "Zhangqiu Scallion", 28, "葱白长，辣味适中"),
        ("GIN", "生姜", "Ginger", 60, "老姜辛辣，适合调味"),
        ("GAR", "大蒜", "Garlic", 45, "紫皮独瓣，蒜香浓郁"),
        ("BRO", "西兰花", "Broccoli", 48, "花球紧密，预冷保鲜"),
        ("CEL", "芹菜", "Celery", 25, "茎秆脆嫩，纤维细"),
        ("APL", "烟台苹果", "Yantai Apple", 65, "红富士，果径80mm以上，脆甜多汁"),
        ("PEA", "莱阳梨", "Laiyang Pear", 55, "皮薄肉细，清甜爽口"),
        ("KIW", "猕猴桃", "Kiwi Fruit", 70, "绿心品种，酸甜适中"),
        ("ORG", "赣南脐橙", "Gannan Navel Orange", 68, "果肉细嫩，化渣多汁"),
        ("GRP", "巨峰葡萄", "Kyoho Grapes", 80, "颗粒饱满，果粉完整"),
        ("WML", "西瓜", "Watermelon", 30, "薄皮红瓤，含糖量11%以上"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("agri", _AGRI_MODS, (("spec", _BAG, 2, 3),), (
        ("RIC", "东北大米", "Northeast Rice", 39, "五常稻花香品种，米粒饱满"),
        ("MIL", "小米", "Foxtail Millet", 45, "黄小米，熬粥香浓"),
        ("FLR", "高筋面粉", "Bread Flour", 28, "蛋白质含量12%，适合面包与面条"),
        ("MUN", "绿豆", "Mung Beans", 42, "颗粒均匀，易煮开花"),
        ("RBN", "红小豆", "Adzuki Beans", 48, "东北红豆，适合做豆沙"),
        ("CRN", "玉米糁", "Corn Grits", 22, "粗粮细作，营养早餐"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("agri", _AGRI_MODS, (("spec", (("250g/罐", "250G", 100), ("500g/盒", "500G", 190),
                                          ("1kg/袋", "1KG", 360)), 2, 3),), (
        ("GRT", "崂山绿茶", "Laoshan Green Tea", 120, "明前采摘，豆香浓郁"),
        ("BLT", "祁门红茶", "Keemun Black Tea", 98, "蜜糖香，汤色红亮"),
        ("OOL", "铁观音", "Tieguanyin Oolong", 150, "清香型，兰花香明显"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("agri", _AGRI_MODS, (("spec", (("5L/桶", "5L", 100), ("5L×4桶/箱", "5LX4", 390),
                                          ("20L/桶", "20L", 380)), 2, 3),), (
        ("PNO", "花生油", "Peanut Oil", 99, "压榨一级，浓香型"),
        ("RSO", "菜籽油", "Rapeseed Oil", 75, "非转基因，物理压榨"),
        ("SBO", "大豆油", "Soybean Oil", 59, "餐饮常用，烟点高"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("production-materials", _PM_MODS, (("spec", (("25kg/袋", "25KG", 100), ("40kg/袋", "40KG", 155),
                                                          ("50kg/袋", "50KG", 190)), 2, 3),), (
        ("CFT", "复合肥", "Compound Fertiliser", 120, "氮磷钾15-15-15，适用于蔬菜大棚"),
        ("OFT", "有机肥", "Organic Fertiliser", 68, "发酵腐熟，改良土壤"),
        ("URE", "尿素", "Urea", 95, "含氮46%，颗粒均匀"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("production-materials", _PM_MODS, (("spec", (("10g/袋", "10G", 100), ("50g/袋", "50G", 450),
                                                          ("100g/袋", "100G", 850)), 2, 3),), (
        ("SCU", "黄瓜种子", "Cucumber Seeds", 25, "抗病高产，发芽率95%以上"),
        ("STO", "番茄种子", "Tomato Seeds", 30, "硬果型，耐储运"),
        ("SPE", "辣椒种子", "Pepper Seeds", 28, "早熟品种，坐果率高"),
    ), _LY_TAIL, packs=(5, 10)),
    _Group("production-materials", _PM_MODS, (("spec", (("100个/捆", "100", 100), ("500个/捆", "500", 460),
                                                          ("1000个/捆", "1000", 880)), 2, 3),), (
        ("CTN", "果蔬纸箱", "Produce Carton", 80, "五层瓦楞，承重25kg"),
        ("MSH", "网袋", "Mesh Bag", 35, "透气防压，适合洋葱土豆"),
    ), _LY_TAIL, packs=(5, 10)),
)

_WEIGHT: tuple[_Opt, ...] = (("250g", "250G", 100), ("500g", "500G", 190), ("1kg", "1KG", 360))
_FRESH_MODS: tuple[_Opt, ...] = (("本地", "Local", 100), ("精品", "Premium", 130), ("有机", "Organic", 160))
_LL_TAIL = "邻里鲜当日到店，30分钟送达（30-min delivery），也可到自提点自提。"

_FRESH: tuple[_Group, ...] = (
    _Group("fresh", _FRESH_MODS, (("weight", _WEIGHT, 1, 2),), (
        ("QC", "上海青", "Bok Choy", 2.5, "清晨采摘，鲜嫩翠绿"),
        ("SPN", "菠菜", "Spinach", 3, "叶片肥厚，凉拌清炒皆宜"),
        ("TOM", "番茄", "Tomato", 3.5, "自然红熟，酸甜可口"),
        ("CUC", "黄瓜", "Cucumber", 2.8, "脆嫩多汁"),
        ("JB", "茭白", "Water Bamboo Shoots", 5, "杭州本地茭白，白嫩清甜"),
        ("LOT", "莲藕", "Lotus Root", 4.5, "粉藕，适合炖汤"),
        ("MUS", "香菇", "Shiitake Mushroom", 6, "肉厚柄短，香味浓郁"),
        ("PBL", "五花肉", "Pork Belly", 9, "冷鲜肉，肥瘦相间"),
        ("PTL", "猪里脊", "Pork Tenderloin", 10, "肉质细嫩，适合糖醋里脊"),
        ("BSH", "牛腱子", "Beef Shank", 22, "筋肉分明，卤制佳品"),
        ("CBR", "鸡胸肉", "Chicken Breast", 6, "高蛋白低脂，健身首选"),
        ("CWG", "鸡翅中", "Chicken Wings", 12, "大小均匀，可乐鸡翅必备"),
        ("LMB", "羊肉卷", "Lamb Rolls", 20, "内蒙古羔羊肉，火锅涮煮"),
        ("SHR", "基围虾", "Greasy-back Shrimp", 25, "鲜活直送，个大饱满"),
        ("BAS", "鲈鱼", "Sea Bass", 16, "现杀现卖，清蒸最佳"),
        ("HTL", "带鱼", "Hairtail", 14, "舟山带鱼，银亮新鲜"),
        ("CLM", "花蛤", "Manila Clams", 8, "已吐沙，爆炒煮汤皆可"),
        ("APL", "苹果", "Apple", 5, "脆甜多汁"),
        ("BAN", "香蕉", "Banana", 3.5, "自然熟，香甜软糯"),
        ("STB", "草莓", "Strawberry", 15, "建德草莓，香气浓郁"),
        ("ORG", "橙子", "Orange", 5, "现切鲜榨皆宜"),
        ("GRP", "葡萄", "Grapes", 9, "颗粒饱满，酸甜适口"),
    ), _LL_TAIL),
    _Group("fresh", _FRESH_MODS, (("pack", (("单份", "1P", 100), ("2份装", "2P", 195), ("4份装", "4P", 380)),
                                   1, 2),), (
        ("EGG", "土鸡蛋(10枚)", "Free-range Eggs (10 pcs)", 16, "散养土鸡蛋，蛋黄饱满"),
        ("DEG", "咸鸭蛋(6枚)", "Salted Duck Eggs (6 pcs)", 15, "流油起沙，配粥神器"),
        ("MLK", "鲜牛奶950ml", "Fresh Milk 950ml", 14, "巴氏杀菌，冷藏保存"),
        ("YOG", "原味酸奶", "Plain Yogurt", 8, "生牛乳发酵，无添加蔗糖"),
        ("TFU", "嫩豆腐", "Silken Tofu", 3, "当日现做，细腻嫩滑"),
        ("BUN", "手工馒头", "Handmade Steamed Buns", 6, "老面发酵，松软有嚼劲"),
    ), _LL_TAIL),
    _Group("daily-goods", (("家庭", "Family", 100), ("植物", "Plant-based", 120), ("经济", "Value", 85)),
           (("pack", (("单件", "1P", 100), ("2件装", "2P", 190), ("6件囤货装", "6P", 520)), 1, 2),), (
        ("TIS", "抽纸(6包)", "Facial Tissue (6 packs)", 19.9, "原生木浆，柔韧不掉屑"),
        ("DSH", "洗洁精", "Dish Soap", 12.9, "食品级配方，果蔬可洗"),
        ("LDT", "洗衣液", "Laundry Detergent", 39, "深层洁净，低泡易漂"),
        ("BAG", "垃圾袋", "Trash Bags", 9.9, "加厚不漏，点断式设计"),
        ("TPS", "牙膏", "Toothpaste", 15, "含氟防蛀，清新口气"),
        ("SHP", "洗发水", "Shampoo", 45, "去屑控油，无硅油配方"),
        ("TLR", "卷纸", "Toilet Paper", 29, "四层加厚，遇水易溶"),
        ("WRP", "保鲜膜", "Cling Film", 12, "PE材质，可微波加热"),
    ), "邻里鲜日用百货，社区价格，满39元免费配送（free delivery over ¥39）。"),
    _Group("services", (("社区", "Community", 100), ("精品", "Premium", 140), ("加急", "Express", 125)),
           (("package", (("基础套餐", "BASIC", 100), ("标准套餐", "STD", 160), ("全能套餐", "FULL", 240)),
             1, 3),), (
        ("HKC", "家政保洁", "Housekeeping Cleaning", 120, "持证保洁师上门，自带工具与清洁剂"),
        ("LDR", "洗衣", "Laundry Service", 39, "上门取送，干洗水洗可选"),
        ("APR", "家电维修", "Appliance Repair", 80, "空调冰箱洗衣机维修，先检测后报价"),
        ("ACC", "空调清洗", "A/C Cleaning", 99, "高温蒸汽除菌，深度清洗内机"),
    ), "邻里鲜到家服务，下单后预约上门时间（book a time slot），服务不满意免费返工。"),
)

_APPL_COLOURS: tuple[_Opt, ...] = (("白色", "WHT", 100), ("黑色", "BLK", 100), ("银灰", "SLV", 105),
                                   ("奶油色", "CRM", 100))
_ZJ_TAIL = "智家电器官方授权，全国联保一年（1-year warranty），深圳市内次日达。"

_HOMEAPP: tuple[_Group, ...] = (
    _Group("appliances", (("经典", "Classic", 100), ("智能", "Smart", 130), ("迷你", "Mini", 80),
                          ("旗舰", "Flagship", 160)),
           (("colour", _APPL_COLOURS, 1, 2),
            ("version", (("标准版", "STD", 100), ("高配版", "PRO", 125)), 1, 2)), (
        ("RCK", "电饭煲", "Rice Cooker", 299, "IH电磁加热，球釜内胆，24小时预约"),
        ("AFR", "空气炸锅", "Air Fryer", 349, "5L大容量，可视窗口，少油健康"),
        ("KTL", "电热水壶", "Electric Kettle", 129, "304不锈钢，多段控温"),
        ("RVC", "扫地机器人", "Robot Vacuum", 1999, "激光导航，扫拖一体，支持App控制"),
        ("APF", "空气净化器", "Air Purifier", 1299, "CADR 500m³/h，除甲醛除过敏原"),
        ("HDR", "吹风机", "Hair Dryer", 259, "高速负离子，快干不伤发"),
        ("BLD", "破壁机", "High-speed Blender", 599, "静音破壁，豆浆果汁一键完成"),
        ("FAN", "落地扇", "Standing Fan", 199, "直流变频，12档风速"),
        ("HUM", "加湿器", "Humidifier", 169, "上加水设计，4L水箱"),
        ("MWO", "微波炉", "Microwave Oven", 499, "变频加热，20L容量"),
        ("DSW", "洗碗机", "Dishwasher", 2999, "13套大容量，热风烘干"),
        ("IND", "电磁炉", "Induction Cooker", 229, "2200W大火力，8档火力调节"),
    ), _ZJ_TAIL),
    _Group("home", (("北欧", "Nordic", 100), ("日式", "Japanese-style", 105), ("加厚", "Heavy-duty", 115),
                    ("简约", "Minimalist", 95)),
           (("colour", _APPL_COLOURS, 1, 2), ("size", (("小号", "S", 100), ("中号", "M", 120),
                                                      ("大号", "L", 145)), 1, 2)), (
        ("BOX", "收纳箱", "Storage Box", 49, "加厚PP材质，可叠加"),
        ("LMP", "护眼台灯", "LED Desk Lamp", 159, "无频闪，国AA级照度"),
        ("CUP", "保温杯", "Insulated Bottle", 89, "316不锈钢内胆，12小时保温"),
        ("PAN", "不粘锅", "Non-stick Pan", 199, "麦饭石涂层，燃气电磁通用"),
        ("KNF", "刀具套装", "Knife Set", 259, "德国钢材，锋利耐用"),
        ("TBW", "陶瓷餐具套装", "Ceramic Tableware Set", 299, "釉下彩，可进洗碗机"),
        ("HGR", "衣架(20个)", "Hangers (20 pcs)", 39, "防滑无痕，节省空间"),
        ("SHF", "置物架", "Shelf Rack", 129, "免打孔安装，承重50kg"),
    ), _ZJ_TAIL),
)

_CONDITION: tuple[_Opt, ...] = (("全新", "NEW", 100), ("九成新", "LN", 65), ("八成新", "GD", 50))
_SX_TAIL = "个人闲置转让，书况见规格说明，成都市内可自提（local pickup in Chengdu）。"
_BOOK_FMT = "{bz}（{mz}） {be} ({me})"

_FARM_WEIGHT: tuple[_Opt, ...] = (("2.5公斤", "2K5", 100), ("5公斤", "5K", 185))
_SY_TAIL = "个人自产自销，自家果园与山林出产，按周采摘发货（sold by the farmer, no middlemen）。"
_FARM: tuple[_Group, ...] = (
    _Group("agri", (("农家", "Farmhouse", 100), ("礼盒", "Gift-box", 140)), (("weight", _FARM_WEIGHT, 1, 2),), (
        ("HNY", "土蜂蜜", "Wild Honey", 88, "山里土蜂，一年一摇"),
        ("KIW", "红心猕猴桃", "Red Kiwifruit", 45, "蒲江自家果园，树上熟"),
        ("TEA", "高山绿茶", "Mountain Green Tea", 120, "明前手工炒制"),
        ("MSH", "干香菇", "Dried Shiitake", 68, "段木栽培，日晒干燥"),
        ("BSH", "笋干", "Dried Bamboo Shoots", 56, "春笋晒制，无添加"),
    ), _SY_TAIL),
)

_BOOKS: tuple[_Group, ...] = (
    _Group("books-media", (("平装", "Paperback", 100), ("精装", "Hardcover", 160)),
           (("condition", _CONDITION, 1, 2),), (
        ("3BP", "三体", "The Three-Body Problem", 39, "刘慈欣科幻代表作"),
        ("LIV", "活着", "To Live", 35, "余华经典长篇小说"),
        ("FRT", "围城", "Fortress Besieged", 39, "钱锺书讽刺小说"),
        ("ORD", "平凡的世界", "Ordinary World", 108, "路遥茅盾文学奖作品，全三册"),
        ("RED", "红楼梦", "Dream of the Red Chamber", 59, "四大名著，人民文学版"),
        ("JTW", "西游记", "Journey to the West", 49, "四大名著，含插图"),
        ("BTN", "边城", "Border Town", 28, "沈从文湘西小说"),
        ("RKB", "骆驼祥子", "Rickshaw Boy", 26, "老舍代表作"),
        ("WDP", "白鹿原", "White Deer Plain", 49, "陈忠实史诗长篇"),
        ("CTA", "呐喊", "Call to Arms", 25, "鲁迅短篇小说集"),
        ("DBD", "朝花夕拾", "Dawn Blossoms Plucked at Dusk", 22, "鲁迅散文集"),
        ("SOI", "乡土中国", "From the Soil", 32, "费孝通社会学经典"),
        ("Y15", "万历十五年", "1587, A Year of No Significance", 42, "黄仁宇历史名著"),
        ("TNG", "唐诗三百首", "Three Hundred Tang Poems", 36, "注释本，适合亲子共读"),
        ("SZB", "孙子兵法", "The Art of War", 25, "原文加白话译注"),
        ("XHD", "新华字典", "Xinhua Dictionary", 25, "第12版，双色本"),
    ), _SX_TAIL, title_fmt=_BOOK_FMT),
    _Group("books-media", (("CD", "CD", 100), ("黑胶", "Vinyl", 380)), (("condition", _CONDITION, 1, 2),), (
        ("GZ", "古筝名曲精选", "Guzheng Classics", 48, "高山流水、渔舟唱晚等名曲"),
        ("EH", "二胡名曲", "Erhu Classics", 45, "二泉映月等经典曲目"),
        ("FS", "中国民歌精选", "Chinese Folk Songs", 42, "茉莉花、康定情歌等"),
        ("JZ", "江南丝竹", "Jiangnan Silk and Bamboo Music", 52, "江南传统器乐合奏"),
    ), _SX_TAIL, title_fmt=_BOOK_FMT),
)

_FACTORY_MODS: tuple[_Opt, ...] = (
    ("标准", "Standard", 100), ("加厚", "Heavy-duty", 130), ("环保", "Eco", 115),
    ("定制印刷", "Custom-printed", 150),
)
_FACTORY_AXES: tuple[_Axis, ...] = (
    ("spec", (("小号", "S", 100), ("中号", "M", 135), ("大号", "L", 175)), 2, 3),
)
_HL_TAIL = "恒力包装材料厂直供，支持来样定制与OEM，含税价可开13%增值税专票（VAT invoice）。"

_FACTORY: tuple[_Group, ...] = (
    _Group("production-materials", _FACTORY_MODS, _FACTORY_AXES, (
        ("CTN", "瓦楞纸箱(50个)", "Corrugated Cartons (50 pcs)", 85, "三层/五层可选，抗压防潮"),
        ("BWR", "气泡膜", "Bubble Wrap Roll", 45, "双层加厚气泡，防震缓冲"),
        ("STF", "缠绕膜", "Stretch Film", 38, "拉伸率300%，托盘打包"),
        ("TAP", "封箱胶带(12卷)", "Packing Tape (12 rolls)", 36, "高粘不易断，静音款"),
        ("EPE", "珍珠棉", "EPE Foam Sheet", 55, "防静电可选，精密仪器包装"),
        ("PPB", "编织袋(100个)", "Woven PP Bags (100 pcs)", 65, "新料编织，承重50kg"),
        ("MLR", "快递袋(100个)", "Courier Mailer Bags (100 pcs)", 29, "自粘封口，防水防撕"),
    ), _HL_TAIL, packs=(10, 20)),
    _Group("daily-goods", _FACTORY_MODS, _FACTORY_AXES, (
        ("GLV", "一次性手套(100只)", "Disposable Gloves (100 pcs)", 15, "PE材质，食品接触级"),
        ("FSB", "保鲜袋", "Food Storage Bags", 12, "点断式，冷藏冷冻两用"),
        ("PCP", "纸杯(100只)", "Paper Cups (100 pcs)", 18, "食品级淋膜，加厚不烫手"),
    ), _HL_TAIL, packs=(10, 20)),
)
# fmt: on


# --------------------------------------------------------------------------- generation

_TIER_STEPS: tuple[tuple[int, int], ...] = ((1, 95), (5, 90), (20, 85), (50, 80))  # (x moq, % of price)
_DRAFT_PERCENT = 7


def _round_price(fen: int) -> int:
    """Retail-style price points: ¥1299 / ¥599 / ¥3.98."""
    if fen >= 100_000:
        return (fen // 10_000 * 100 + 99) * 100
    if fen >= 2_000:
        return (fen // 1_000 * 10 + 9) * 100
    return fen // 10 * 10 + 8


def _pick(axis: _Axis, seed: str) -> tuple[_Opt, ...]:
    _, options, lo, hi = axis
    hi = min(hi, len(options))
    count = min(lo, hi) + _h(seed, axis[0], "n") % (hi - min(lo, hi) + 1)
    start = _h(seed, axis[0], "start") % (len(options) - count + 1)
    return options[start : start + count]


def _wholesale(price: int, packs: tuple[int, ...], seed: str) -> WholesaleSpec:
    pack = packs[_h(seed, "pack") % len(packs)]
    moq = pack * (1 + _h(seed, "moq") % 2)
    n_tiers = 2 + _h(seed, "tiers") % 3
    # tier prices rounded down to whole jiao (10 fen); strictly below retail, non-increasing
    tiers = tuple(
        TierSpec(moq * mult, max(1, price * pct // 1000 * 10)) for mult, pct in _TIER_STEPS[:n_tiers]
    )
    return WholesaleSpec(moq=moq, pack_size=pack, tiers=tiers)


def _products(merchant_key: str, prefix: str, groups: tuple[_Group, ...]) -> tuple[ProductSpec, ...]:
    out: list[ProductSpec] = []
    for g in groups:
        for code, bz, be, yuan, blurb in g.bases:
            for idx, (mz, me, mod_pct) in enumerate(g.mods, start=1):
                root = f"{prefix}-{code}-{idx:03d}"
                seed = f"{merchant_key}/{root}"
                jitter = 92 + _h(seed, "price") % 17
                base = round(yuan * 100) * mod_pct * jitter // 10_000
                variants: list[VariantSpec] = []
                for combo in itertools.product(*(_pick(axis, seed) for axis in g.axes)):
                    pct = 100
                    for opt in combo:
                        pct = pct * opt[2] // 100
                    price = _round_price(base * pct // 100)
                    sku = "-".join([root, *(opt[1] for opt in combo)])
                    variants.append(
                        VariantSpec(
                            sku=sku,
                            price=price,
                            attributes={axis[0]: opt[0] for axis, opt in zip(g.axes, combo, strict=True)},
                            wholesale=_wholesale(price, g.packs, seed) if g.packs else None,
                        )
                    )
                title = g.title_fmt.format(mz=mz, me=me, bz=bz, be=be)
                out.append(
                    ProductSpec(
                        title=title,
                        category=g.category,
                        description=f"{title.split(' ', 1)[0]}：{blurb}。{g.tail}",
                        status="draft" if _h(seed, "status") % 100 < _DRAFT_PERCENT else "active",
                        variants=tuple(variants),
                    )
                )
    return tuple(out)


def _loc(code: str, name: str, kind: str, *addr: str) -> LocationSpec:
    contact, phone, line1, district, city, province, postal = addr
    address = AddressSpec(contact, phone, line1, district, city, province, postal)
    return LocationSpec(code, name, kind, address)


# Obviously fake ID-number-shaped placeholders (birth date 1900-01-01, valid check digit); no real person's ID.
INDIVIDUAL_LICENCE_PLACEHOLDER = "510107190001010009"
FARMER_LICENCE_PLACEHOLDER = "510131190001010009"

_WHOLESALE_KEYS = frozenset({"agri", "factory"})


def merchants() -> list[MerchantSpec]:
    """The full demo data set: seven merchants, ~640 products, every SB/T 10518 model. Pure and deterministic."""
    sh, hz, sz = ("上海市", "上海市"), ("杭州市", "浙江省"), ("深圳市", "广东省")
    # fmt: off
    return [
        MerchantSpec(
            key="apparel", name="雅衫服饰", kind="enterprise",
            licence_no=_uscc("310114", "apparel"), icp_no=_icp("沪", "apparel"),
            contact_email="service@yashan.example.com", trading_model="b2c_mall",
            locations=(
                _loc("SH-WH-JD", "嘉定仓", "warehouse", "王建国", "13901710001", "叶城路1288号3号库",
                     "嘉定区", *sh, "201821"),
                _loc("SH-ST-XH", "徐汇店", "store", "李晓燕", "13901710002", "漕溪北路398号1层",
                     "徐汇区", *sh, "200030"),
                _loc("SH-ST-JA", "静安店", "store", "陈静", "13901710003", "南京西路1618号B1层",
                     "静安区", *sh, "200040"),
            ),
            products=_products("apparel", "YS", _APPAREL),
        ),
        MerchantSpec(
            key="agri", name="绿野农产品批发", kind="enterprise",
            licence_no=_uscc("370783", "agri"), icp_no=_icp("鲁", "agri"),
            contact_email="trade@lvye-agri.example.com", trading_model="b2b_marketplace",
            locations=(
                _loc("SG-WH-01", "寿光物流园仓", "warehouse", "张德顺", "13561600001",
                     "农产品物流园B区18号", "寿光市", "潍坊市", "山东省", "262700"),
            ),
            products=_products("agri", "LY", _AGRI),
        ),
        MerchantSpec(
            key="fresh", name="邻里鲜生鲜超市", kind="enterprise",
            licence_no=_uscc("330106", "fresh"), icp_no=_icp("浙", "fresh"),
            contact_email="hello@linlixian.example.com", trading_model="b2c_mall",
            locations=(
                _loc("HZ-ST-WS", "文三路店", "store", "周丽", "13858000001", "文三路199号邻里中心1层",
                     "西湖区", *hz, "310012"),
                _loc("HZ-PP-GS", "和睦小区自提点", "pickup_point", "吴海", "13858000002",
                     "和睦路88号和睦小区南门", "拱墅区", *hz, "310011"),
                _loc("HZ-PP-BJ", "江南名苑自提点", "pickup_point", "郑敏", "13858000003",
                     "江南大道1066号江南名苑东门", "滨江区", *hz, "310051"),
            ),
            products=_products("fresh", "LL", _FRESH),
        ),
        MerchantSpec(
            key="homeapp", name="智家电器", kind="enterprise",
            licence_no=_uscc("440305", "homeapp"), icp_no=_icp("粤", "homeapp"),
            contact_email="support@zhijia.example.com", trading_model="b2c_single_store",
            locations=(
                _loc("SZ-WH-BA", "宝安仓", "warehouse", "黄志强", "13760000001", "福永街道凤凰工业园6栋",
                     "宝安区", *sz, "518103"),
                _loc("SZ-ST-NS", "南山科技园店", "store", "林佳", "13760000002", "科苑路66号1层",
                     "南山区", *sz, "518057"),
            ),
            products=_products("homeapp", "ZJ", _HOMEAPP),
        ),
        MerchantSpec(
            key="books", name="书香个人小店", kind="individual",
            licence_no=INDIVIDUAL_LICENCE_PLACEHOLDER, icp_no=None,
            contact_email="shuxiang.reader@example.com", trading_model="c2c",
            locations=(
                _loc("CD-ST-HOME", "书香小屋", "store", "刘书香", "13980000001", "玉林北路21号2单元302",
                     "武侯区", "成都市", "四川省", "610041"),
            ),
            products=_products("books", "SX", _BOOKS),
        ),
        MerchantSpec(
            key="farm", name="山野农家个人店", kind="individual",
            licence_no=FARMER_LICENCE_PLACEHOLDER, icp_no=None,
            contact_email="shanye.farmer@example.com", trading_model="c2c",
            locations=(
                _loc("PJ-ST-FARM", "山野农家", "store", "杨春山", "13980000002", "鹤山镇石象村5组",
                     "蒲江县", "成都市", "四川省", "611630"),
            ),
            products=_products("farm", "SY", _FARM), self_declaration="own_farm_produce",
        ),
        MerchantSpec(
            key="factory", name="恒力包装材料厂", kind="enterprise",
            licence_no=_uscc("441900", "factory"), icp_no=_icp("粤", "factory"),
            contact_email="sales@hengli-pack.example.com", trading_model="b2b_own",
            locations=(
                _loc("DG-WH-CA", "长安厂仓", "warehouse", "何永福", "13790000001", "上角社区工业路12号",
                     "长安镇", "东莞市", "广东省", "523850"),
            ),
            products=_products("factory", "HL", _FACTORY),
        ),
    ]
    # fmt: on


@cache
def _location_kinds() -> dict[tuple[str, str], str]:
    return {(m.key, loc.code): loc.kind for m in merchants() for loc in m.locations}


def stock_for(merchant_key: str, location_code: str, sku: str) -> int:
    """Deterministic on-hand quantity for a SKU at a location (~8 % zero).

    Stores hold 0-200, pickup points 0-30, warehouses 200-3000, and the wholesale merchants
    ("agri", "factory") 500-10000. Service SKUs get a number too; callers may ignore it.
    """
    h = _h("stock", merchant_key, location_code, sku)
    if h % 100 < 8:
        return 0
    q = h // 100
    kind = _location_kinds().get((merchant_key, location_code), "store")
    if merchant_key in _WHOLESALE_KEYS:
        return 500 + q % 9_501
    if kind == "warehouse":
        return 200 + q % 2_801
    if kind == "pickup_point":
        return q % 31
    return q % 201
