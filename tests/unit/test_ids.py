from app.core.ids import new_id, new_token, pickup_code
from app.core.security import hash_password, hash_token, verify_password


def test_ids_are_prefixed_unique_and_time_ordered():
    ids = [new_id("ord") for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i.startswith("ord_") and len(i) == 30 for i in ids)
    assert ids == sorted(ids)


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
