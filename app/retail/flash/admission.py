"""The gate in front of a flash sale: who may try to buy, decided in Redis without a database round trip.

One atomic script counts an attempt against the route's attempt limits (per buyer and per address, a second),
checks that no other attempt of the buyer is in flight, that the buyer stays under the sale's limit and that
units are left, and then takes the units and counts them against the buyer. The attempts of a sale that arrive
while a call is out go together in the next call, decided one after another by the script. The order
is then written to the database, which checks the same rules again and stays the truth: if that write fails the
units go back (`give_back`); if Redis lost its counters (a restart) they are rebuilt from the database
(`rebuild`), and the reconciliation job sets them to what the database says (`reset`). So the gate can only
turn a buyer away early or let one more through to the database's own check, never sell a unit twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from app.core import coalesce
from app.core.logging import get_logger

log = get_logger("app.flash")

Verdict = Literal["ok", "sold_out", "limit_reached", "busy", "unknown", "rate_limited"]
IN_FLIGHT_MS = 15_000  # longer than any order write; a crashed attempt frees its buyer after this
KEEP_S = 7 * 24 * 3600  # counters outlive any sale
POOL = 64
Rebuild = Callable[[], Awaitable[tuple[int, dict[str, int]]]]  # (units left, units per buyer) from the database
BATCH = 64  # attempts decided in one call at most
POOL_WAIT_S = 10.0

# Any number of attempts of one sale, decided in order. KEYS: left, bought, keys (the Idempotency-Keys admitted),
# keys_lost, then per attempt its busy key and its attempt counters of this second. ARGV: in-flight ms, keep seconds,
# the number of attempts, then per attempt: customer, quantity, limit, the customer's key ('' without one), the
# number of its counters and each counter's limit. Returns per attempt its verdict, bought, and for a refusal
# whether the key may be a retry of an admitted attempt (then the database has its answer).
_ADMIT = """
local out = {}
local k, a = 5, 4
for _ = 1, tonumber(ARGV[3]) do
  local customer, q, limit, member = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  local counters = tonumber(ARGV[a + 4])
  local busy = KEYS[k]
  local verdict = nil
  for i = 1, counters do
    if not verdict then
      local n = redis.call('INCR', KEYS[k + i])
      if n == 1 then redis.call('EXPIRE', KEYS[k + i], 2) end
      if n > tonumber(ARGV[a + 4 + i]) then verdict = 'rate_limited' end
    end
  end
  k, a = k + 1 + counters, a + 5 + counters
  local bought, retry = 0, 0
  if not verdict then
    local left = redis.call('GET', KEYS[1])
    if not left then
      verdict = 'unknown'
    else
      bought = tonumber(redis.call('HGET', KEYS[2], customer) or '0')
      if redis.call('EXISTS', busy) == 1 then verdict = 'busy'
      elseif bought + q > limit then verdict = 'limit_reached'
      elseif tonumber(left) < q then verdict = 'sold_out' end
      if verdict == 'limit_reached' or verdict == 'sold_out' then
        if bought > 0 and member ~= '' and (redis.call('SISMEMBER', KEYS[3], member) == 1
                                            or redis.call('EXISTS', KEYS[4]) == 1) then retry = 1 end
      elseif not verdict then
        verdict = 'ok'
        redis.call('SET', busy, '1', 'PX', ARGV[1])
        redis.call('DECRBY', KEYS[1], q)
        redis.call('HINCRBY', KEYS[2], customer, q)
        if member ~= '' then
          redis.call('SADD', KEYS[3], member)
          redis.call('EXPIRE', KEYS[3], ARGV[2])
        end
      end
    end
  end
  out[#out + 1] = verdict
  out[#out + 1] = bought
  out[#out + 1] = retry
end
return out
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
class _Attempt:
    keys: list[str]  # its busy key, its attempt counters
    args: list[Any]  # its part of the script's ARGV


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
        self._calls: coalesce.Coalescer[_Attempt, Admission] = coalesce.Coalescer(BATCH)
        self._done: coalesce.Coalescer[str, None] = coalesce.Coalescer(BATCH)
        self._give_back = self.redis.register_script(_GIVE_BACK)
        self._load = self.redis.register_script(_LOAD)

    async def admit(self, *, sale_id: str, customer_id: str, quantity: int, limit: int,
                    idempotency_key: str | None = None, attempts: Sequence[tuple[str, int]] = (),
                    second: int = 0, rebuild: Rebuild | None = None) -> Admission:
        """`attempts`: (who, attempts allowed a second) to count this attempt against in `second` first
        ("rate_limited" once over). `rebuild`: the sale's counters as the database has them, read when Redis has
        none (after a restart, or before the sale's first attempt); they are then loaded and the attempt decided
        again ("unknown" without it). Attempts of a sale that arrive while one of its calls is out are decided
        together in the next call (`coalesce.Coalescer`): one round trip for all of them, and one rebuild."""
        member = f"{customer_id}:{idempotency_key}" if idempotency_key else ""
        counted = [(who, per_second) for who, per_second in attempts if per_second > 0]
        base = _base(sale_id)
        attempt = _Attempt([f"{base}:busy:{customer_id}", *(f"{base}:attempts:{second}:{who}" for who, _ in counted)],
                           [customer_id, quantity, limit, member, len(counted), *(n for _, n in counted)])
        return await self._calls.run(sale_id, attempt, lambda batch: self._decide(sale_id, batch, rebuild))

    async def _decide(self, sale_id: str, batch: Sequence[_Attempt], rebuild: Rebuild | None) -> list[Admission]:
        admissions = await self._script(sale_id, batch)
        unknown = [i for i, a in enumerate(admissions) if a.verdict == "unknown"]
        if unknown and rebuild is not None:
            remaining, bought = await rebuild()
            await self.load(sale_id=sale_id, remaining=remaining, bought=bought, only_if_missing=True)
            # Decided again, their attempts counted already.
            again = await self._script(sale_id, [_Attempt(batch[i].keys[:1], [*batch[i].args[:4], 0])
                                                 for i in unknown])
            for i, admission in zip(unknown, again, strict=True):
                admissions[i] = admission
        return admissions

    async def _script(self, sale_id: str, batch: Sequence[_Attempt]) -> list[Admission]:
        left, bought, _, keys, lost = _keys(sale_id)
        reply = await self._admit(keys=[left, bought, keys, lost, *(k for a in batch for k in a.keys)],
                                  args=[IN_FLIGHT_MS, KEEP_S, len(batch), *(v for a in batch for v in a.args)])
        return [Admission(cast(Verdict, v.decode() if isinstance(v, bytes) else str(v)), int(b), bool(r))
                for v, b, r in zip(reply[0::3], reply[1::3], reply[2::3], strict=True)]

    async def give_back(self, *, sale_id: str, customer_id: str, quantity: int) -> None:
        await self._give_back(keys=_keys(sale_id, customer_id), args=[customer_id, quantity])

    async def done(self, *, sale_id: str, customer_id: str) -> None:
        """The buyer's attempt is over (written): it is no longer in flight. A group of winners is answered at
        once, when their transaction commits: the calls of a sale that arrive while one is out go together in
        the next, one round trip instead of one each (each on a connection of its own)."""
        await self._done.run(sale_id, customer_id, lambda customers: self._not_busy(sale_id, customers))

    async def _not_busy(self, sale_id: str, customer_ids: Sequence[str]) -> list[None]:
        await self.redis.delete(*(_keys(sale_id, c)[2] for c in customer_ids))
        return [None] * len(customer_ids)

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
