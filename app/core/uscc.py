"""Identity numbers of sellers: the unified social credit code (GB 32100-2015) and the resident ID format."""

from __future__ import annotations

import re

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
_RESIDENT_ID = re.compile(r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]$")


def uscc_check_char(first17: str) -> str:
    """Check character of a unified social credit code (GB 32100-2015) for its first 17 characters."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    total = 0
    for ch, weight in zip(first17.upper(), USCC_WEIGHTS, strict=True):
        idx = USCC_CHARSET.find(ch)
        if idx < 0:
            raise ValueError(f"invalid USCC character {ch!r}")
        total += idx * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """True if `code` is 18 characters from the USCC charset with a correct check character."""
    code = code.upper()
    if len(code) != 18 or any(ch not in USCC_CHARSET for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


RESIDENT_ID_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
RESIDENT_ID_CHECK = "10X98765432"  # GB 11643-1999: the check character for each sum mod 11


def resident_id_is_valid(number: str) -> bool:
    """True if `number` is an 18-character resident ID of the right shape whose check character (GB 11643, ISO 7064
    MOD 11-2) matches its first 17 digits."""
    if not resident_id_format_ok(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11] == number[17].upper()


def resident_id_format_ok(number: str) -> bool:
    """True if `number` has the shape of an 18-digit resident ID (region, birth date, sequence, check).

    Only the shape is checked: the platform verifies the person against the document itself.
    """
    return bool(_RESIDENT_ID.match(number))
