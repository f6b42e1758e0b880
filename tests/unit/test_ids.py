import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from app.core.ids import _ALPHABET, _b32, new_id, new_ids, new_token, pickup_code
from app.core.security import (
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


async def test_password_hashing_leaves_the_event_loop_free_for_other_requests() -> None:
    hashing = asyncio.ensure_future(hash_password_off_loop("correct horse"))
    ticks = 0
    while not hashing.done():  # on the loop, the hash would finish in its first step: no tick in between
        ticks += 1
        await asyncio.sleep(0)
    assert ticks > 1
    assert await verify_password_off_loop(hashing.result(), "correct horse")
    assert not await verify_password_off_loop(hashing.result(), "wrong")
