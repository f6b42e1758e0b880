"""The tour's walk through the policy's eleven sections, each step a real API call whose answer is checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from app.core.clock import SHANGHAI
from app.tour import cast
from app.tour.client import Api, TourFailed

WHOLESALE_LINES = 2_000
VARIANTS_PER_PRODUCT = 100  # the catalogue's limit per product


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def percent(share: float | None) -> str:
    return "n/a (no sales yet)" if share is None else f"{share * 100:.2f} %"


def check(condition: bool, message: str) -> None:
    if not condition:
        raise TourFailed(message)


class Reporter:
    """Readable output: a heading per section, then what was done (→) and what came back (←)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def heading(self, number: str, zh: str, en: str, gist: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{'§' + number + '  ' if number else ''}{zh} · {en}[/bold]", align="left")
        self.console.print(f"[italic]{escape(gist)}[/italic]")

    def did(self, text: str) -> None:
        self.console.print(f"  [cyan]→[/cyan] {escape(text)}")

    def got(self, text: str) -> None:
        self.console.print(f"  [green]←[/green] {escape(text)}")

    def note(self, text: str) -> None:
        self.console.print(f"    {escape(text)}")


@dataclass
class State:
    """What the steps hand to each other."""

    run: str
    today: str
    share_before: dict[str, Any] = field(default_factory=dict)
    retail: cast.Seller | None = None
    fresh: cast.Seller | None = None
    factory: cast.Seller | None = None
    till: str = ""
    jacket: dict[str, Any] = field(default_factory=dict)
    store_sale: int = 0
    pickup_order: dict[str, Any] = field(default_factory=dict)
    shoppers: list[cast.Customer] = field(default_factory=list)
    individual_id: str = ""
    individual_key: str = ""
    online_added: dict[str, int] = field(default_factory=dict)  # what the tour's own online orders came to


class Tour:
    """One run of the tour against a server; `steps()` lists the sections in the order they run."""

    def __init__(self, api: Api, out: Reporter, *, admin: str, creds: dict[str, Any], run: str) -> None:
        self.api = api
        self.out = out
        self.admin = admin
        self.creds = creds
        self.s = State(run=run, today=datetime.now(SHANGHAI).date().isoformat())

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [("§1 why", self.why), ("§2 the goal: before", self.goal_before), ("cast", self.cast),
                ("§3 retailers online", self.retailers_online), ("§4 wholesale online", self.wholesale),
                ("§5 shops, marketplaces, community", self.community), ("§6 online and offline", self.o2o),
                ("§10 fund flows: Alipay and WeChat Pay", self.payments),
                ("§7 support policies", self.support), ("§8 demonstration", self.demonstration),
                ("§9 standards and credit", self.standards), ("§10 risk", self.risk),
                ("§11 promotion", self.promotion), ("§2 the goal: after", self.goal_after)]

    # ---- helpers -------------------------------------------------------------------------------------------

    def _sku(self, tail: str) -> str:
        return f"TOUR{self.s.run}-{tail}"

    def _share(self) -> dict[str, Any]:
        start = (datetime.now(SHANGHAI).date() - timedelta(days=29)).isoformat()
        body = self.api.call("GET", "/v1/reports/channel-share", token=self.admin,
                             step="channel-share report (with the operator's token)",
                             params={"from": start, "to": self.s.today})
        check(isinstance(body, dict) and "online_sales" in body, f"channel-share report: unexpected answer {body!r}")
        return dict(body)

    def _till(self, seller: cast.Seller, name: str) -> str:
        device = self.api.call("POST", f"/v1/locations/{seller.store_id}/devices", step=f"{seller.name}: add a till",
                               token=seller.api_key, json={"name": name})
        return str(device["token"])

    def _pos(self, till: str, events: list[dict[str, Any]], step: str) -> dict[str, Any]:
        body = self.api.call("POST", "/v1/pos/events", step=step, token=till, idempotent=True,
                             json={"events": events})
        bad = [r for r in body["results"] if r["status"] != "applied"]
        check(not bad, f"{step}: {len(bad)} events not applied, first: {bad[:1]}")
        return dict(body)

    def _receive(self, till: str, skus: list[str], quantity: int, tag: str) -> None:
        now = datetime.now(UTC).isoformat()
        self._pos(till, [{"event_id": f"tour-{self.s.run}-{tag}-{i}", "type": "receive", "sku": sku,
                          "quantity": quantity, "occurred_at": now} for i, sku in enumerate(skus)],
                  step=f"goods received at the till ({len(skus)} SKUs)")

    def _available(self, seller: cast.Seller, sku: str) -> dict[str, Any]:
        return dict(self.api.call("GET", f"/v1/inventory/{sku}", step=f"availability of {sku}",
                                  params={"merchant_id": seller.merchant_id}))

    def _product(self, token: str, body: dict[str, Any], step: str) -> dict[str, Any]:
        return dict(self.api.call("POST", "/v1/products", step=step, token=token, json=body))

    # ---- sections ------------------------------------------------------------------------------------------

    def why(self) -> None:
        self.out.heading("1", "为什么", "Why", "E-commerce lowers circulation costs and widens consumption: one "
                         "platform where every channel sells from one stock, with no middle layers to pay for.")
        ready = self.api.call("GET", "/readyz", step="server ready")
        status = ready.get("status", "ok") if isinstance(ready, dict) else "ok"
        self.out.got(f"server {self.api.base_url} answers /readyz: {status}")
        page = self.api.call("GET", "/v1/products", step="public catalogue", params={"limit": 500})
        count = len(page["items"])
        more = " or more" if page.get("next_cursor") else ""
        self.out.got(f"public catalogue: {count}{more} products on sale across every category")

    def goal_before(self) -> None:
        self.out.heading("2", "发展目标", "The goal", "Online shopping at 5 % or more of retail sales. The "
                         "channel-share report measures it: online orders against store (till) sales.")
        share = self.s.share_before = self._share()
        self.out.did("GET /v1/reports/channel-share (operator, the last 30 days)")
        self.out.got(f"before the tour: online {yuan(share['online_sales'])}, stores {yuan(share['offline_sales'])}, "
                     f"online share {percent(share['online_share'])}")

    def cast(self) -> None:
        self.out.heading("", "参与者", "Who takes part", "The demo's merchants when `shop demo` loaded them on this "
                         "server; otherwise the tour signs up and verifies its own.")
        for role in ("apparel", "fresh", "factory"):
            seller = cast.seller(self.api, admin=self.admin, role=cast.ROLES[role], creds=self.creds, run=self.s.run)
            setattr(self.s, "retail" if role == "apparel" else role, seller)
            origin = "signed up and verified for this run, kept out of public lists"
            self.out.got(f"{role}: {seller.name} ({origin}), store {seller.store_name}")
        self.s.shoppers = [cast.customer(self.api, run=self.s.run, n=n, name=name)
                           for n, name in enumerate(("王芳", "李雷", "张伟"), start=1)]
        self.out.got(f"{len(self.s.shoppers)} customers signed up and signed in")

    def retailers_online(self) -> None:
        self.out.heading("3", "传统流通企业上网", "Traditional retailers go online", "An apparel chain's stores and "
                         "its web shop sell from one stock: a sale at the till shows online within one sync.")
        retail = self.s.retail
        assert retail is not None
        sku = self._sku("DJ-M")
        product = self._product(retail.api_key, {
            "title": "男士羽绒服 导览款 Men's Down Jacket (tour)", "category": "apparel", "status": "active",
            "description": "90% 白鸭绒，门店与网店同一库存。", "variants": [{"sku": sku, "price": 59900,
                                                                   "attributes": {"尺码": "M"}}]}, "list a jacket")
        self.s.jacket = {"product_id": product["id"], "variant_id": product["variants"][0]["id"], "sku": sku}
        self.out.did(f"{retail.name} lists {product['title']} at {yuan(59900)} (SKU {sku})")
        self.s.till = self._till(retail, "导览收银台 tour till")
        self.out.did(f"a POS till is registered at {retail.store_name} (device token issued once)")
        self._receive(self.s.till, [sku], 20, "rcv")
        self.out.did("the till books in 20 jackets delivered to the store (POST /v1/pos/events, receive)")
        before = self._available(retail, sku)["available"]
        sale = self._pos(self.s.till, [{"event_id": f"tour-{self.s.run}-sale-1", "type": "sale", "sku": sku,
                                        "quantity": 2, "occurred_at": datetime.now(UTC).isoformat()}],
                         step="store sale synced from the till")
        self.s.store_sale = 2 * 59900
        self.out.did("2 jackets sold at the counter; the till syncs: POST /v1/pos/events {type: sale, quantity: 2}")
        self.out.got(f"{sale['results'][0]['status']}; changes cursor {sale['cursor'][:12]}…")
        after = self._available(retail, sku)
        check(after["available"] == before - 2, f"online availability should drop by 2, was {before}, "
                                                f"now {after['available']}")
        self.out.got(f"online availability of {sku}: {before} → {after['available']} "
                     "(the web shop sees the store sale)")

    def wholesale(self) -> None:
        self.out.heading("4", "批发企业上网", "Wholesale goes online", "Producers and wholesalers take bulk orders "
                         f"from business buyers online: here a {WHOLESALE_LINES:,}-line order to a factory, priced "
                         "by quantity tiers, checked against stock and the buyer's credit, in one request.")
        factory = self.s.factory
        assert factory is not None
        skus = [self._sku(f"CT{i:04d}") for i in range(WHOLESALE_LINES)]
        started = time.monotonic()
        for p in range(0, WHOLESALE_LINES, VARIANTS_PER_PRODUCT):
            self._product(factory.api_key, {
                "title": f"瓦楞纸箱 第{p // VARIANTS_PER_PRODUCT + 1}系列 Corrugated cartons (tour)",
                "category": "production-materials", "status": "active", "description": "五层瓦楞，按箱起订。",
                "variants": [{"sku": sku, "price": 380 + i % 7 * 20, "attributes": {"规格": f"{p + i:04d}"},
                              "wholesale": {"moq": 10, "pack_size": 10,
                                            "tiers": [{"min_qty": 10, "unit_price": 300 + i % 7 * 15},
                                                      {"min_qty": 100, "unit_price": 260 + i % 7 * 12}]}}
                             for i, sku in enumerate(skus[p:p + VARIANTS_PER_PRODUCT])]},
                f"list cartons {p + 1}–{p + VARIANTS_PER_PRODUCT}")
        self.out.did(f"{factory.name} lists {WHOLESALE_LINES:,} carton SKUs with MOQ 10, packs of 10 and price tiers "
                     f"({WHOLESALE_LINES // VARIANTS_PER_PRODUCT} products × {VARIANTS_PER_PRODUCT} variants)")
        till = self._till(factory, "门市收货终端 receiving terminal")
        self._receive(till, skus, 500, "carton")
        self.out.did(f"{factory.store_name} receives 500 of each through one upload of {WHOLESALE_LINES:,} events")
        buyer = self.api.call("POST", "/v1/wholesale/buyers", step="add a wholesale buyer", token=factory.api_key,
                              json={"name": f"华南日化分销 South China Distributors {self.s.run}",
                                    "credit_limit": 100_000_000, "payment_terms_days": 30})
        self.out.did("the factory adds a business buyer with ¥1,000,000 credit on 30-day terms")
        lines = [{"sku": sku, "quantity": 100 if i % 10 == 0 else 20} for i, sku in enumerate(skus)]
        placed_at = time.monotonic()
        order = self.api.call("POST", "/v1/wholesale/orders", step=f"{WHOLESALE_LINES}-line wholesale order",
                              token=buyer["token"], idempotent=True,
                              json={"merchant_id": factory.merchant_id, "mode": "all_or_nothing",
                                    "payment": "terms", "lines": lines})
        took = time.monotonic() - placed_at
        accepted = sum(1 for ln in order["lines"] if ln["status"] == "accepted")
        check(accepted == WHOLESALE_LINES, f"wholesale order: {accepted} of {WHOLESALE_LINES} lines accepted")
        check(order["order"]["channel"] == "wholesale", "the wholesale order should be on the wholesale channel")
        tiered = next(ln for ln in order["lines"] if ln["quantity"] == 100)
        self.s.online_added["wholesale order"] = order["order"]["total"]
        self.out.did(f"the buyer's ERP sends {WHOLESALE_LINES:,} lines: "
                     "POST /v1/wholesale/orders (all_or_nothing, terms)")
        self.out.got(f"order {order['order']['number']}: {accepted:,} lines accepted, total "
                     f"{yuan(order['order']['total'])}, due {str(order.get('due_at'))[:10]}, answered in {took:.1f} s")
        self.out.got(f"tier pricing: {tiered['sku']} × 100 at {yuan(tiered['unit_price'])} each "
                     f"(setup and order took {time.monotonic() - started:.1f} s)")

    def community(self) -> None:
        self.out.heading("5", "专业网店、第三方平台与社区电子商务", "Specialised shops, marketplaces, community",
                         "Individuals sell on the marketplace under a self-declaration; a neighbourhood store runs "
                         "group-buys collected at a pickup point: one reaches its minimum, one does not.")
        individual_id, key = cast.sign_up(
            self.api, admin=self.admin, name=f"巧手编织 {self.s.run}", kind="individual",
            licence_no=cast.INDIVIDUAL_ID, email=f"tour-{self.s.run.lower()}-maker@example.com",
            trading_model="c2c", self_declaration="family_handicraft")
        self.s.individual_id, self.s.individual_key = individual_id, key
        shop = self.api.call("GET", f"/v1/merchants/{individual_id}", step="individual's shop page")
        check(shop["registration_type"] == "unregistered" and bool(shop["self_declaration"]),
              "an unregistered individual's shop should show the self-declaration")
        self.out.did("an individual (no business licence) opens a C2C shop selling home-made handicrafts")
        self.out.got(f"shop page: {shop['badge']}; trading model {shop['trading_model']}")
        self.out.note(f"self-declaration shown: {shop['self_declaration']}")

        fresh = self.s.fresh
        assert fresh is not None
        sku = self._sku("EGG30")
        product = self._product(fresh.api_key, {
            "title": "散养土鸡蛋 30枚 Free-range eggs, 30 (tour)", "category": "fresh", "status": "active",
            "description": "农场直供，社区自提。", "variants": [{"sku": sku, "price": 3980}]}, "list eggs")
        variant_id = product["variants"][0]["id"]
        self._receive(self._till(fresh, "导览收银台 tour till"), [sku], 100, "egg")
        point = self.api.call("POST", "/v1/community/pickup-points", step="open a pickup point", token=fresh.api_key,
                              json={"name": f"幸福里小区自提点 {self.s.run}",
                                    "address": cast.address("团长", "幸福里 8 号门岗", "拱墅区", "杭州市", "310011"),
                                    "leader_name": "吴海", "leader_phone": "13858000002", "commission_rate": 500})
        self.out.did(f"{fresh.name} opens pickup point {point['name']} run by leader 吴海 (5 % commission)")
        closes = datetime.now(UTC) + timedelta(days=1)
        pickup_date = (closes.astimezone(SHANGHAI).date() + timedelta(days=1)).isoformat()
        results = {}
        for label, minimum, joins in (("A", 3, [1, 1, 1]), ("B", 10, [2])):
            gb = self.api.call("POST", "/v1/community/group-buys", step=f"group-buy {label}", token=fresh.api_key,
                               json={"variant_id": variant_id, "price": 2990, "min_quantity": minimum,
                                     "max_quantity": 50, "closes_at": closes.isoformat(),
                                     "pickup_date": pickup_date, "pickup_point_ids": [point["id"]]})
            self.out.did(f"group-buy {label}: eggs at {yuan(2990)} instead of {yuan(3980)}, needs {minimum} boxes")
            orders = []
            for who, quantity in zip(self.s.shoppers, joins, strict=False):
                joined = self.api.call("POST", f"/v1/community/group-buys/{gb['id']}/join", step=f"join {label}",
                                       token=who.token, idempotent=True,
                                       json={"quantity": quantity, "pickup_point_id": point["id"]})
                check(joined["channel"] == "community", "a join should make a community order")
                orders.append(joined)
            self.out.did(f"{len(orders)} resident{'s' if len(orders) > 1 else ''} join{'' if len(orders) > 1 else 's'} "
                         f"with {sum(joins)} boxes (stock held for them)")
            closed = self.api.call("POST", f"/v1/community/group-buys/{gb['id']}/close", step=f"close {label}",
                                   token=fresh.api_key)
            results[label] = closed["status"]
            if closed["status"] == "succeeded":
                self.s.online_added["group-buy"] = sum(o["total"] for o in orders)
            self.out.got(f"closed: {closed['status']} ({closed['joined_quantity']} of {minimum} boxes)")
            if closed["status"] == "failed":
                order = self.api.call("GET", f"/v1/orders/{orders[0]['id']}", step="failed group-buy order",
                                      token=self.s.shoppers[0].token)
                check(order["status"] == "cancelled", "a failed group-buy's orders should be cancelled")
                self.out.got(f"its order {order['number']} is {order['status']}, the eggs go back to stock")
        check(results == {"A": "succeeded", "B": "failed"}, f"group-buy outcomes should be A succeeded, B failed: "
                                                            f"{results}")
        manifest = self.api.call("GET", f"/v1/community/pickup-points/{point['id']}/manifest",
                                 step="pickup manifest", token=fresh.api_key, params={"date": pickup_date})
        customers = manifest.get("customers", [])
        self.out.got(f"the leader's manifest for {pickup_date}: {len(customers)} residents to hand eggs to, "
                     "each with a pickup code")

    def o2o(self) -> None:
        self.out.heading("6", "线上线下融合", "Online and offline as one", "Online sales bring people into stores and "
                         "stores back online sales: order on the phone, collect at the store, one promotion for both.")
        retail, shopper = self.s.retail, self.s.shoppers[0]
        assert retail is not None
        now = datetime.now(UTC)
        code = f"TOUR{self.s.run}"
        self.api.call("POST", "/v1/promotions", step="joint promotion", token=retail.api_key,
                      json={"code": code, "kind": "percent", "value": 10, "channels": ["online", "store"],
                            "starts_at": (now - timedelta(minutes=5)).isoformat(),
                            "ends_at": (now + timedelta(days=7)).isoformat()})
        self.out.did(f"{retail.name} runs promotion {code}: 10 % off online and in its stores")
        placed = self.api.call("POST", "/v1/checkout", step="pick-up order", token=shopper.token, idempotent=True,
                               json={"lines": [{"variant_id": self.s.jacket["variant_id"], "quantity": 1}],
                                     "fulfilment": {"type": "pickup", "location_id": retail.store_id},
                                     "payment_method": "cod", "coupon_code": code})
        order = placed["orders"][0]
        self.s.pickup_order = order
        self.s.online_added["pick-up order"] = order["total"]
        check(bool(order.get("pickup_code")), "a pick-up order should carry a pickup code")
        self.out.did(f"a customer orders the jacket online for pick-up at {retail.store_name}, pays at the counter")
        self.out.got(f"order {order['number']}: {order['status']}, subtotal {yuan(order['subtotal'])}, "
                     f"discount {yuan(order['discount'])}, total {yuan(order['total'])}, pickup code "
                     f"{order['pickup_code']}")
        level = next(loc for loc in self._available(retail, self.s.jacket["sku"])["locations"]
                     if loc["location_id"] == retail.store_id)
        self.out.got(f"the store's stock of the jacket shows it held: {level['available']} left to sell")
        collected = self.api.call("POST", f"/v1/orders/{order['id']}/collect", step="collect at the store",
                                  token=self.s.till, json={"pickup_code": order["pickup_code"]})
        check(collected["status"] == "completed", f"a collected order should be completed, is {collected['status']}")
        self.out.did("the customer shows the code at the counter; the till hands over: POST /v1/orders/{id}/collect")
        self.out.got(f"order {collected['number']}: {collected['status']}, payment {collected['payment_status']}")

    def payments(self) -> None:
        self.out.heading("10", "资金流：支付宝与微信支付", "Fund flows: Alipay and WeChat Pay", "A buyer pays the "
                         "way mainland shoppers pay, and the money lands in the merchant's own account at the "
                         "payment company: the platform never holds it (no second clearing).")
        retail, shopper = self.s.retail, self.s.shoppers[1]
        assert retail is not None
        accounts = {"alipay": {"sub_merchant_id": "2088" + f"{int(self.s.run, 16) % 10**12:012d}",
                               "app_auth_token": f"sbxtour{self.s.run}"},
                    "wechatpay": {"sub_merchant_id": f"19{int(self.s.run, 16) % 10**8:08d}"}}
        for provider, body in accounts.items():
            set_ = self.api.call("PUT", f"/v1/payment-accounts/{provider}", step=f"{provider} account",
                                 token=retail.api_key, json=body, expect=(200, 201, 404))
            if set_ is None or "sub_merchant_id" not in set_:
                self.out.note(f"{provider} is not configured on this server: start it with "
                              "`shop serve --sandbox-payments` (or set ALIPAY_* / WECHATPAY_*) to see it pay")
                continue
            self.out.did(f"{retail.name} sets its own {provider} account {set_['sub_merchant_id']} "
                         f"(PUT /v1/payment-accounts/{provider})")
            placed = self.api.call("POST", "/v1/checkout", step=f"{provider} checkout", token=shopper.token,
                                   idempotent=True, json={
                                       "lines": [{"variant_id": self.s.jacket["variant_id"], "quantity": 1}],
                                       "fulfilment": {"type": "delivery", "address": cast.address(
                                           "李雷", "天目山路 1 号", "西湖区", "杭州", "310000")},
                                       "payment_method": provider})
            order, payment = placed["orders"][0], placed["payment"]
            if not payment.get("sandbox"):
                self.out.note(f"{provider} is a real account here: the tour does not pay real money")
                continue
            if provider == "alipay":
                self.out.got(f"answer: payment.pay_url → Alipay's cashier ({yuan(payment['amount'])})")
                self._pay_alipay_sandbox(payment["pay_url"], payment["id"])
            else:
                self.out.got(f"answer: payment.code_url {payment['code_url'][:32]}… (shown as a QR code)")
                self.api.http.post(payment["sandbox_pay_url"].split("?")[0],
                                   data={"code": payment["code_url"].rsplit("=", 1)[-1]})
            paid = self.api.call("GET", f"/v1/orders/{order['id']}", step=f"{provider} order",
                                 token=shopper.token)
            check(paid["payment_status"] == "paid", f"the {provider} order should be paid, is "
                                                    f"{paid['payment_status']}")
            self.s.online_added[f"{provider} order"] = paid["total"]
            self.out.did(f"the shopper pays in the {provider} sandbox (沙箱: no money moves); its signed "
                         "notification reaches the server")
            self.out.got(f"order {paid['number']}: {paid['status']}, {yuan(paid['total'])} into "
                         f"{retail.name}'s own account {set_['sub_merchant_id']}")

    def _pay_alipay_sandbox(self, pay_url: str, out_trade_no: str) -> None:
        """The buyer opens the sandbox cashier and presses pay (its form posts the trade's two fields)."""
        import re

        page = httpx.get(pay_url, timeout=30)
        seller = re.search(r'name=seller_id value="([^"]+)"', page.text)
        check(page.status_code == 200 and seller is not None, f"the Alipay sandbox cashier answered "
                                                              f"{page.status_code}")
        assert seller is not None
        origin = pay_url.split("/gateway.do")[0]
        httpx.post(f"{origin}/sandbox/alipay/pay", data={"seller_id": seller.group(1), "out_trade_no": out_trade_no},
                   timeout=30)

    def support(self) -> None:
        self.out.heading("7", "政策支持", "Support policies", "Funding, tax and policy support are the government's "
                         "work and outside software: nothing to call here.")
        self.out.note("(out of software scope)")

    def demonstration(self) -> None:
        self.out.heading("8", "示范推广", "Demonstration", "Spread mature models: `shop demo` loads a working "
                         "example of each, this tour walks through them, docs/policy.md maps sections to their tests.")
        platform = self.api.call("GET", "/v1/platform", step="platform information")
        models = ", ".join(f"{m['name_zh']}" for m in platform["trading_models"])
        self.out.got(f"the platform runs the SB/T 10518 models: {models}")
        self.out.got(f"this run's id: {self.s.run} (everything it created carries it)")

    def standards(self) -> None:
        self.out.heading("9", "标准与信用", "Standards and credit", "Every seller trades under an SB/T 10518 model and "
                         "carries a published credit score; customers' reviews feed it at once.")
        for key in ("apparel", "fresh", "homeapp", "agri", "factory", "books", "farm"):
            demo = self.creds.get(key)
            if not isinstance(demo, dict) or "merchant_id" not in demo:
                continue
            shop = self.api.call("GET", f"/v1/merchants/{demo['merchant_id']}", step=f"{key} shop page",
                                 expect=(200, 404))
            if isinstance(shop, dict) and "trading_model" in shop:
                self.out.got(f"{shop['name']}: model {shop['trading_model']}, {shop['registration_type']}, "
                             f"credit {shop['credit_score']}")
        retail, shopper = self.s.retail, self.s.shoppers[0]
        assert retail is not None
        before = self.api.call("GET", f"/v1/merchants/{retail.merchant_id}", step="shop page before the review")
        review = self.api.call("POST", f"/v1/orders/{self.s.pickup_order['id']}/reviews", step="review",
                               token=shopper.token, json={"rating": 5, "text": "门店自提很方便，羽绒服很暖和。"})
        self.out.did(f"the customer rates the collected order {review['rating']}★: “{review['text']}”")
        after = self.api.call("GET", f"/v1/merchants/{retail.merchant_id}", step="shop page after the review")
        check(after["rating_count"] == before["rating_count"] + 1, "the review should count in the rating at once")
        self.out.got(f"{after['name']}: rating {after['rating']} from {after['rating_count']} reviews, credit score "
                     f"{before['credit_score']} → {after['credit_score']} (formula {after['credit_formula']})")

    def risk(self) -> None:
        self.out.heading("10", "防范风险", "Preventing risk", "Illegal trading is stopped at registration, at "
                         "publishing and after it: checked licences, moderated listings, takedowns made public.")
        bad = self.api.call("POST", "/v1/merchants", step="sign-up with a bad licence", expect=(422,),
                            json={"name": "来路不明商行", "kind": "enterprise", "licence_no": "91350100M000100Y44",
                                  "contact_email": f"tour-{self.s.run.lower()}-bad@example.com"})
        self.out.did("a sign-up with a licence number whose check digit is wrong")
        self.out.got(f"422: {bad['errors'][0]['field']}: {bad['errors'][0]['message']}")
        key = self.s.individual_key
        refused = self.api.call("POST", "/v1/products", step="listing with a forbidden clause", token=key,
                                expect=(422,), json={"title": "手工编织包 Handwoven bag", "category": "home",
                                                     "status": "active", "description": "一经售出，概不退换。",
                                                     "variants": [{"sku": self._sku("BAG-1"), "price": 12800}]})
        self.out.did("a seller lists a bag saying “一经售出，概不退换” (no returns, ever)")
        self.out.got(f"422: {refused['errors'][0]['message'] if refused.get('errors') else refused['detail']}")
        fake = self._product(key, {"title": "仿大牌手袋 Designer-style handbag", "category": "home",
                                       "status": "active", "description": "大牌同款，手工缝制。",
                                       "variants": [{"sku": self._sku("BAG-2"), "price": 19900}]}, "list a handbag")
        self.out.did(f"the seller lists {fake['title']}")
        complaint = self.api.call("POST", "/v1/complaints", step="complaint",
                                  json={"target_type": "product", "target_id": fake["id"], "category": "counterfeit",
                                        "reason": "商标权利人投诉：仿冒注册商标。"})
        self.out.did(f"a right holder complains (counterfeit); the complaint is {complaint['status']}, answer due "
                     f"{complaint['sla_due_at'][:10]}")
        self.api.call("POST", f"/v1/admin/products/{fake['id']}/takedown", step="takedown", token=self.admin,
                      json={"reason": "涉嫌销售假冒注册商标商品（电子商务法第四十二条）"})
        self.out.did("the operator takes the listing down: POST /v1/admin/products/{id}/takedown")
        gone = self.api.call("GET", f"/v1/products/{fake['id']}", step="taken-down listing", expect=(404,))
        self.out.got(f"the listing is gone from the shop ({gone.get('status', 404)})")
        published = self.api.call("GET", "/v1/enforcement", step="enforcement list", params={"limit": 50})
        entry = next((e for e in published["items"] if e["target_id"] == fake["id"]), None)
        check(entry is not None, "the takedown should appear on GET /v1/enforcement")
        assert entry is not None
        self.out.got(f"GET /v1/enforcement lists it: {entry['action']} of “{entry['target_title']}” by "
                     f"{entry['shop_name']}: {entry['reason']}")

    def promotion(self) -> None:
        self.out.heading("11", "推进工作", "Promotion work", "Festival online exhibitions and promotions: merchants "
                         "put products and coupons into a platform campaign with its own landing page.")
        retail = self.s.retail
        assert retail is not None
        live = self.api.call("GET", "/v1/campaigns", step="live campaigns")
        campaign = next((c for c in live["items"] if c["merchant_id"] is None and c["status"] == "live"), None)
        if campaign is None:
            now = datetime.now(UTC)
            campaign = self.api.call("POST", "/v1/campaigns", step="create a festival campaign", token=self.admin,
                                     json={"slug": f"tour-{self.s.run.lower()}", "title": "年货节 Spring Festival Fair",
                                           "headline": "全场年货，线上线下同价", "starts_at": now.isoformat(),
                                           "ends_at": (now + timedelta(days=14)).isoformat()})
            self.out.did(f"the operator opens the festival campaign {campaign['title']}")
        else:
            self.out.got(f"live now: {campaign['title']} until {campaign['ends_at'][:10]}")
        joined = self.api.call("POST", f"/v1/campaigns/{campaign['id']}/items", step="join the campaign",
                               token=retail.api_key, json={"product_ids": [self.s.jacket["product_id"]],
                                                           "promotion_codes": [f"TOUR{self.s.run}"]})
        self.out.did(f"{retail.name} puts the jacket and its 10 % promotion into it")
        self.out.got(f"/campaigns/{joined['slug']}: {joined['status']}, {len(joined['products'])} products, "
                     f"{len(joined['promotions'])} promotions")

    def goal_after(self) -> None:
        self.out.heading("2", "发展目标（之后）", "The goal, after", "The same report after the tour's sales: the "
                         "store sale, the pick-up order, the wholesale order and the successful group-buy.")
        before, after = self.s.share_before, self._share()
        check(after["offline_sales"] >= before["offline_sales"] + self.s.store_sale,
              "the store sale should count in offline sales")
        added = sum(self.s.online_added.values())
        check(after["online_sales"] >= before["online_sales"] + added,
              f"the tour's online orders ({yuan(added)}) should count in online sales")
        online_up = after["online_sales"] - before["online_sales"]
        offline_up = after["offline_sales"] - before["offline_sales"]
        self.out.got(f"after the tour: online {yuan(after['online_sales'])} (+{yuan(online_up)}), "
                     f"stores {yuan(after['offline_sales'])} (+{yuan(offline_up)})")
        parts = ", ".join(f"{name} {yuan(amount)}" for name, amount in self.s.online_added.items())
        self.out.note(f"the tour's own sales: store sale {yuan(self.s.store_sale)}; online: {parts}")
        self.out.got(f"online share {percent(before['online_share'])} → {percent(after['online_share'])} "
                     f"(the policy's goal: at least 5.00 %)")
