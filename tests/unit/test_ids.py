import asyncio
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import Settings
from app.core.ids import _ALPHABET, _b32, new_id, new_ids, new_token, pickup_code
from app.core.security import (
    configure_password_hashing,
    hash_password,
    hash_password_off_loop,
    hash_token,
    verify_password,
    verify_password_off_loop,
)


def test_ids_are_prefixed_unique_and_time_ordered():
    ids = [new_id("ord") for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i.startswith("ord_") and len(i) == 30 for i in ids)
    assert ids == sorted(ids)


@given(st.integers(min_value=0, max_value=32**26 - 1))
def test_id_digits_are_base32_most_significant_first(value: int) -> None:
    digits = "".join(_ALPHABET[value >> (5 * i) & 31] for i in reversed(range(26)))
    assert _b32(value, 26) == digits
    assert _b32(value % 32**10, 10) == digits[-10:]


def test_an_id_starts_with_its_creation_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id("ord")[4:14]
    after = time.time_ns() // 1_000_000
    assert before <= sum(_ALPHABET.index(c) << (5 * i) for i, c in enumerate(reversed(made))) <= after


def test_tokens_are_random_and_hashing_is_stable():
    a, b = new_token("sk"), new_token("sk")
    assert a != b and a.startswith("sk_") and len(a) > 40
    assert hash_token(a) == hash_token(a) != hash_token(b)
    assert a not in hash_token(a)


def test_passwords_use_argon2():
    h = hash_password("correct horse")
    assert h.startswith("$argon2")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong")
    assert not verify_password("not-a-hash", "x")


DEFAULT_COST = {name: Settings.model_fields[f"shop_password_hash_{name}"].default
                for name in ("time_cost", "memory_kib", "parallelism")}


@pytest.fixture
def default_cost() -> Iterator[None]:
    """Hashing at the cost a deployment has by default (an app made earlier in this process may have set another)."""
    configure_password_hashing(**DEFAULT_COST)
    yield
    configure_password_hashing(**DEFAULT_COST)


def test_the_default_password_cost_is_argon2id_at_64_mib_and_hashes_of_any_cost_verify(default_cost: None):
    assert DEFAULT_COST == {"time_cost": 3, "memory_kib": 65_536, "parallelism": 4}
    strong = hash_password("correct horse")
    assert strong.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    configure_password_hashing(time_cost=1, memory_kib=1_024, parallelism=1)
    cheap = hash_password("correct horse")
    assert cheap.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert verify_password(strong, "correct horse") and verify_password(cheap, "correct horse")
    assert not verify_password(strong, "wrong")


def test_pickup_codes_are_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (pickup_code() for _ in range(100)))


def test_ids_drawn_in_a_batch_are_what_one_at_a_time_would_give() -> None:
    before = new_id("oli")
    batch = new_ids("oli", 2_000)
    after = new_id("oli")
    assert len(set(batch)) == 2_000
    assert all(i.startswith("oli_") and len(i) == 30 and set(i[4:]) <= set(_ALPHABET) for i in batch)
    assert [before, *batch, after] == sorted([before, *batch, after])
    assert new_ids("oli", 0) == []


async def test_password_hashing_leaves_the_event_loop_free_for_other_requests(default_cost: None) -> None:
    hashing = asyncio.ensure_future(hash_password_off_loop("correct horse"))
    ticks = 0
    while not hashing.done():  # on the loop, the hash would finish in its first step: no tick in between
        ticks += 1
        await asyncio.sleep(0)
    assert ticks > 1
    assert await verify_password_off_loop(hashing.result(), "correct horse")
    assert not await verify_password_off_loop(hashing.result(), "wrong")
