"""The platform's synonym list: every merchant's products are searched with it (merchants add their own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from app.catalog.search import text

PLATFORM: tuple[tuple[str, ...], ...] = (
    ("手机", "移动电话", "mobile phone", "cellphone"),
    ("t恤", "t-shirt", "tee", "短袖"),
    ("羽绒服", "down jacket", "羽绒衣"),
    ("笔记本电脑", "笔记本", "laptop", "notebook"),
    ("运动鞋", "sneaker", "跑鞋"),
    ("电视", "电视机", "tv", "television"),
    ("冰箱", "电冰箱", "refrigerator", "fridge"),
    ("大米", "稻米", "rice"),
    ("连衣裙", "裙子", "dress"),
    ("耳机", "headphone", "earphone"),
    ("充电宝", "移动电源", "power bank"),
    ("西红柿", "番茄", "tomato"),
    ("土豆", "马铃薯", "potato"),
)


def index(groups: Iterable[Sequence[str]]) -> dict[str, list[str]]:
    """key of each member -> the other members of its groups."""
    out: dict[str, list[str]] = {}
    for group in groups:
        for member in group:
            k = text.key(member)
            if k:
                out.setdefault(k, []).extend(m for m in group if text.key(m) != k)
    return out


PLATFORM_INDEX = index(PLATFORM)


def merged(*indexes: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ix in indexes:
        for k, others in ix.items():
            out.setdefault(k, []).extend(o for o in others if o not in out[k])
    return out
