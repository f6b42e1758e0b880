import pytest

from app.core.icp import icp_is_valid


@pytest.mark.parametrize("number", ["沪ICP备12345678号-1", "京ICP证030173号", "粤ICP备20061234号",
                                    "浙ICP备12345678号-12"])
def test_well_formed_numbers(number: str) -> None:
    assert icp_is_valid(number)


@pytest.mark.parametrize("number", ["ICP备12345678号", "沪ICP备1234567号", "沪ICP12345678号", "美ICP备12345678号",
                                    "沪ICP备12345678号-", "沪ICP证12345678号", " 沪ICP备12345678号"])
def test_malformed_numbers(number: str) -> None:
    assert not icp_is_valid(number)
