"""The gate in front of a flash sale: who may try to buy, decided in Redis without a database round trip.

One atomic script per attempt counts it against the route's attempt limits (per buyer and per address, a second),
checks that no other attempt of the buyer is in flight, that the buyer stays under the sale's limit and that
units are left, and then takes the units and counts them against the buyer. The order
is then written to the database, which checks the same rules again and stays the truth: if that write fails the
units go back (`give_back`); if Redis lost its counters (a restart) they are rebuilt from the database
(`rebuild`), and the reconciliation job sets them to what the database says (`reset`). So the gate can only
turn a buyer away early or let one more through to the database's own check, never sell a unit twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from app.core.logging import get_logger

log = get_logger("app.flash")

Verdict = Literal["ok", "sold_out", "limit_reached", "busy", "unknown", "rate_limited"]
IN_FLIGHT_MS = 15_000  # longer than any order write; a crashed attempt frees its buyer after this
KEEP_S = 7 * 24 * 3600  # counters outlive any sale
POOL = 64
POOL_WAIT_S = 10.0

# KEYS: left, bought, busy, keys (the Idempotency-Keys admitted), keys_lost, then the attempt counters of this
# second. ARGV: customer, quantity, limit, in-flight ms, the customer's key ('' without one), keep seconds, then
# each counter's limit. Returns verdict, bought, and for a refusal whether the key may be a retry of an admitted
# attempt (then the database has its answer).
_ADMIT = """
for i = 6, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], 2) end
  if n > tonumber(ARGV[i + 1]) then return {'rate_limited', 0, 0} end
end
local left = redis.call('GET', KEYS[1])
if not left then return {'unknown', 0, 0} end
local bought = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if redis.call('EXISTS', KEYS[3]) == 1 then return {'busy', bought, 0} end
local q = tonumber(ARGV[2])
local verdict = nil
if bought + q > tonumber(ARGV[3]) then verdict = 'limit_reached'
elseif tonumber(left) < q then verdict = 'sold_out' end
if verdict then
  local retry = 0
  if bought > 0 and ARGV[5] ~= '' and (redis.call('SISMEMBER', KEYS[4], ARGV[5]) == 1
                                       or redis.call('EXISTS', KEYS[5]) == 1) then retry = 1 end
  return {verdict, bought, retry}
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
redis.call('DECRBY', KEYS[1], q)
redis.call('HINCRBY', KEYS[2], ARGV[1], q)
if ARGV[5] ~= '' then
  redis.call('SADD', KEYS[4], ARGV[5])
  redis.call('EXPIRE', KEYS[4], ARGV[6])
end
return {'ok', bought, 0}
"""

_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
end
redis.call('DEL', KEYS[3])
return 1
"""

# KEYS: left, bought, keys, keys_lost. ARGV: keep seconds, only-if-missing (1/0), units left, then customer,
# count pairs. Counters rebuilt for buyers whose admitted keys Redis no longer has: every refusal of such a buyer
# asks the database whether it is a retry (`keys_lost`).
_LOAD = """
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[1])
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], ARGV[1])
if #ARGV >= 4 and redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[4], '1', 'EX', ARGV[1]) end
return 1
"""


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    bought: int  # units the buyer had before this attempt, as the gate counts them
    retry: bool = False  # refused, but the Idempotency-Key may be an admitted attempt's: its answer is stored


def _base(sale_id: str) -> str:
    return f"liutong:flash:{{{sale_id}}}"  # one hash slot per sale, should the Redis be a cluster


def _keys(sale_id: str, customer_id: str = "") -> list[str]:
    base = _base(sale_id)
    return [f"{base}:left", f"{base}:bought", f"{base}:busy:{customer_id}", f"{base}:keys", f"{base}:keys_lost"]


class RedisGate:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        # A rush has more attempts in flight than Redis needs connections: they wait for one of a few.
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=POOL, timeout=POOL_WAIT_S)
        self.redis: Any = redis.Redis(connection_pool=pool)
        self._admit = self.redis.register_script(_ADMIT)
        self._give_back = self.redis.register_script(_GIVE_BACK)
        self._load = self.redis.register_script(_LOAD)

    async def admit(self, *, sale_id: str, customer_id: str, quantity: int, limit: int,
                    idempotency_key: str | None = None, attempts: Sequence[tuple[str, int]] = (),
                    second: int = 0) -> Admission:
        """`attempts`: (who, attempts allowed a second) to count this attempt against in `second` first
        ("rate_limited" once over)."""
        member = f"{customer_id}:{idempotency_key}" if idempotency_key else ""
        counted = [(who, per_second) for who, per_second in attempts if per_second > 0]
        keys = [*_keys(sale_id, customer_id), *(f"{_base(sale_id)}:attempts:{second}:{who}" for who, _ in counted)]
        verdict, bought, retry = await self._admit(keys=keys, args=[customer_id, quantity, limit, IN_FLIGHT_MS,
                                                                    member, KEEP_S, *(n for _, n in counted)])
        text = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        return Admission(cast(Verdict, text), int(bought), bool(retry))

    async def give_back(self, *, sale_id: str, customer_id: str, quantity: int) -> None:
        await self._give_back(keys=_keys(sale_id, customer_id), args=[customer_id, quantity])

    async def done(self, *, sale_id: str, customer_id: str) -> None:
        await self.redis.delete(_keys(sale_id, customer_id)[2])

    async def load(self, *, sale_id: str, remaining: int, bought: Mapping[str, int], only_if_missing: bool) -> bool:
        """Set the sale's counters to these figures (from the database); with `only_if_missing`, only if Redis
        has none (rebuilding after a restart). Returns whether they were set."""
        args: list[Any] = [KEEP_S, 1 if only_if_missing else 0, remaining]
        for customer_id, units in sorted(bought.items()):
            args += [customer_id, units]
        left, bought_key, _, keys, lost = _keys(sale_id)
        return bool(await self._load(keys=[left, bought_key, keys, lost], args=args))

    async def counters(self, sale_id: str) -> tuple[int | None, dict[str, int]]:
        """(units left, units per buyer) as the gate holds them; None when it holds none."""
        left_key, bought_key = _keys(sale_id)[:2]
        left = await self.redis.get(left_key)
        bought = await self.redis.hgetall(bought_key)
        return (None if left is None else int(left),
                {k.decode(): int(v) for k, v in bought.items() if int(v)})

    async def forget(self, sale_id: str) -> None:
        left, bought, _, keys, lost = _keys(sale_id)
        await self.redis.delete(left, bought, keys, lost)

    async def close(self) -> None:
        await self.redis.aclose()


def make_gate(redis_url: str | None) -> RedisGate | None:
    """The Redis gate when Redis is configured; without it the database decides alone (slower, same rules)."""
    return RedisGate(redis_url) if redis_url else None
