import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.uscc import USCC_CHARSET, resident_id_format_ok, uscc_check_char, uscc_is_valid

# Codes printed on published business licences (GB 32100-2015).
PUBLISHED = ["91350100M000100Y43", "91330100716105852F", "914403001922038216", "91440300708461136T",
             "91110108551385082Q", "91110000802100433B"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc_is_valid(code)
    assert uscc_is_valid(code.lower())
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y433",
                                  "91350100M00010OY43", "91350100M000100I43", "", "9135010 M000100Y43"])
def test_wrong_length_charset_or_check_digit_is_invalid(code: str) -> None:
    assert not uscc_is_valid(code)


def test_check_char_needs_seventeen_known_characters() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("123")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100YO")


body = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)


@given(body, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_CHARSET))
def test_any_single_changed_character_is_caught(first17: str, pos: int, ch: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert uscc_is_valid(code)
    mutated = code[:pos] + ch + code[pos + 1:]
    assert uscc_is_valid(mutated) == (mutated == code)


def test_resident_id_shape() -> None:
    assert resident_id_format_ok("110101199003070011")
    assert resident_id_format_ok("11010119900307001X")
    assert not resident_id_format_ok("110101199013070011")  # month 13
    assert not resident_id_format_ok("11010119900307001")
    assert not resident_id_format_ok("91350100M000100Y43")
