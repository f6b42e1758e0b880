"""ICP filing (备案) and ICP licence (经营许可证) numbers as MIIT issues them."""

from __future__ import annotations

import re

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 沪ICP备12345678号-1 (filing; the -N suffix names a site) or 京ICP证123456号 (operating licence).
_ICP = re.compile(rf"^[{PROVINCES}]ICP(备\d{{8}}号(-\d{{1,3}})?|证\d{{6}}号)$")


def icp_is_valid(number: str) -> bool:
    """True if `number` is shaped like an ICP filing or licence number (province, kind, digits)."""
    return bool(_ICP.match(number))
