"""The pages' message catalogue (Chinese and English) and the language choice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from app.core.clock import SHANGHAI
from app.web.console_messages import CONSOLE

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

MESSAGES: dict[str, tuple[str, str]] = {  # key: (zh, en)
    "brand": ("流通商城", "Liutong Shop"),
    "search": ("搜索", "Search"),
    "search_placeholder": ("搜索商品，如 羽绒服", "Search products, e.g. 羽绒服"),
    "categories": ("分类", "Categories"),
    "new_arrivals": ("新品", "New arrivals"),
    "results_for": ("搜索结果：", "Results for: "),
    "no_results": ("没有找到商品。", "No products found."),
    "cart": ("购物车", "Cart"),
    "cart_empty": ("购物车是空的。", "Your cart is empty."),
    "add_to_cart": ("加入购物车", "Add to cart"),
    "added_to_cart": ("已加入购物车。", "Added to your cart."),
    "remove": ("删除", "Remove"),
    "quantity": ("数量", "Quantity"),
    "variant": ("规格", "Option"),
    "price": ("价格", "Price"),
    "subtotal": ("小计", "Subtotal"),
    "total": ("合计", "Total"),
    "discount": ("优惠", "Discount"),
    "shipping": ("运费", "Shipping"),
    "availability": ("库存", "Availability"),
    "left_at": ("{n} 件 · {place}", "{n} left at {place}"),
    "sold_out": ("已售罄", "Sold out"),
    "checkout": ("去结算", "Checkout"),
    "place_order": ("提交订单", "Place order"),
    "email": ("电子邮箱", "E-mail"),
    "fulfilment": ("配送方式", "Delivery or pick-up"),
    "delivery": ("快递配送", "Delivery"),
    "pickup": ("到店自提", "Store pick-up"),
    "pickup_store": ("自提门店", "Pick-up store"),
    "pickup_single_merchant": ("到店自提仅限同一商家的商品。", "Store pick-up needs all items from one merchant."),
    "address": ("收货地址", "Delivery address"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "line1": ("详细地址", "Street address"),
    "district": ("区", "District"),
    "city": ("城市", "City"),
    "province": ("省份", "Province"),
    "postal_code": ("邮编", "Postal code"),
    "payment": ("支付方式", "Payment"),
    "coupon": ("优惠码", "Coupon code"),
    "order": ("订单", "Order"),
    "order_placed": ("下单成功！", "Your order is placed!"),
    "status": ("状态", "Status"),
    "payment_status": ("付款状态", "Payment status"),
    "pickup_code": ("取货码", "Pickup code"),
    "pickup_hint": ("到店出示取货码即可取货。", "Show this code at the store to collect your order."),
    "pay_card": ("银行卡支付", "Pay by card"),
    "pay_card_hint": ("正在加载 Stripe 支付……", "Loading the Stripe payment form…"),
    "pay_wechat": ("微信扫码支付", "Scan to pay with WeChat"),
    "pay_wechat_hint": ("请用微信扫描二维码付款，付款后本页自动更新。", "Scan the code with WeChat to pay; this page "
                        "updates by itself once paid."),
    "pay_waiting": ("等待付款……", "Waiting for the payment…"),
    "sandbox": ("沙箱", "Sandbox"),
    "sandbox_hint": ("沙箱环境：不会扣款", "Sandbox: no money moves"),
    "sandbox_pay": ("在沙箱中付款", "Pay in the sandbox"),
    "payment_accounts": ("收款账户", "Payment accounts"),
    "payment_accounts_hint": ("顾客的货款直接进入您在支付机构的账户，平台不经手。设置后，您的商品即可用该方式支付。",
                              "Buyers' money goes straight to your own account at the payment company; the "
                              "platform never holds it. Once set, your goods can be paid that way."),
    "provider_alipay": ("支付宝", "Alipay"), "provider_wechatpay": ("微信支付", "WeChat Pay"),
    "account_now": ("当前账户", "Current account"), "account_none": ("尚未设置", "Not set yet"),
    "sub_merchant_alipay": ("支付宝账号（2088 开头）", "Alipay account (starts with 2088)"),
    "sub_merchant_wechatpay": ("微信支付特约商户号 sub_mchid", "WeChat Pay sub-merchant id (sub_mchid)"),
    "app_auth_token": ("应用授权令牌 app_auth_token", "App authorisation token (app_auth_token)"),
    "save": ("保存", "Save"),
    "no_providers": ("本平台未开通支付宝或微信支付。", "This platform offers neither Alipay nor WeChat Pay."),
    "request_return": ("申请退货（7天无理由）", "Request a return (7 days, no reason needed)"),
    "return_terms": ("退货说明", "Returns"),
    "return_kind": ("退货类型", "Type of return"),
    "return_no_reason": ("7天无理由退货（退货运费由买家承担，商家另有承诺的除外）",
                         "No-reason return within 7 days (you pay return shipping unless the seller offers it)"),
    "return_quality": ("质量问题退货（运费由商家承担）", "Quality problem (the seller pays return shipping)"),
    "confirm_exclusions": ("以下商品经您确认后不支持7天无理由退货：", "These items lose the 7-day no-reason return "
                           "only if you confirm it:"),
    "confirm_exclusions_box": ("我已了解并确认以上商品不适用7天无理由退货",
                               "I understand and confirm that these items cannot be returned without a reason"),
    "reason": ("原因", "Reason"),
    "submit": ("提交", "Submit"),
    "review": ("评价", "Review"),
    "rating": ("评分（1-5）", "Rating (1–5)"),
    "review_text": ("评价内容", "Your review"),
    "thanks": ("谢谢！", "Thank you!"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "register": ("注册", "Register"),
    "password": ("密码", "Password"),
    "account": ("我的账户", "My account"),
    "my_orders": ("我的订单", "My orders"),
    "language": ("语言", "Language"),
    "switch_lang": ("English", "中文"),
    "error": ("出错了", "Something went wrong"),
    "not_found": ("页面不存在", "Page not found"),
    "back_home": ("返回首页", "Back to the shop"),
    "campaigns": ("活动", "Campaigns"),
    "ends_in": ("距结束", "Ends in"),
    "starts_in": ("距开始", "Starts in"),
    # console
    "console": ("商家后台", "Merchant console"),
    "api_key": ("商家 API 密钥", "Merchant API key"),
    "login": ("登录", "Log in"),
    "wrong_key": ("密钥无效。", "That key is not valid."),
    "dashboard": ("概览", "Overview"),
    "products": ("商品", "Products"),
    "stock": ("库存", "Stock"),
    "orders": ("订单", "Orders"),
    "devices": ("收银设备", "POS devices"),
    "conflicts": ("超卖冲突", "Oversell conflicts"),
    "wholesale": ("批发客户", "Wholesale buyers"),
    "quotes": ("报价", "Quotes"),
    "group_buys": ("社区团购", "Group-buys"),
    "channel_share": ("线上线下占比", "Channel share"),
    "online": ("线上", "Online"),
    "offline": ("门店", "Store"),
    "online_share": ("线上占比", "Online share"),
    "from": ("从", "From"),
    "to": ("到", "To"),
    "show": ("查看", "Show"),
    "new_product": ("新建商品", "New product"),
    "title": ("标题", "Title"),
    "category": ("分类", "Category"),
    "description": ("描述", "Description"),
    "price_yuan": ("价格（元）", "Price (yuan)"),
    "active": ("上架", "Active"),
    "draft": ("草稿", "Draft"),
    "create": ("创建", "Create"),
    "saved": ("已保存。", "Saved."),
    "location": ("地点", "Location"),
    "on_hand": ("在库", "On hand"),
    "reserved": ("已预留", "Reserved"),
    "available": ("可售", "Available"),
    "set_on_hand": ("设置在库数量", "Set on-hand count"),
    "ship": ("发货", "Ship"),
    "carrier": ("快递公司", "Carrier"),
    "tracking_no": ("运单号", "Tracking number"),
    "deliver": ("标记送达", "Mark delivered"),
    "cancel": ("取消订单", "Cancel"),
    "cancel_refund": ("取消并退款", "Cancel and refund"),
    "complete": ("完成", "Complete"),
    "channel": ("渠道", "Channel"),
    "created": ("创建时间", "Created"),
    "none_yet": ("暂无。", "None yet."),
    "device_name": ("设备名称", "Device name"),
    "add_device": ("添加设备", "Add a device"),
    "device_token": ("设备令牌（只显示一次）", "Device token (shown once)"),
    "shortfall": ("短缺", "Shortfall"),
    "resolve": ("处理", "Resolve"),
    "buyer_name": ("客户名称", "Buyer name"),
    "credit_limit": ("信用额度（元）", "Credit limit (yuan)"),
    "terms_days": ("账期（天）", "Payment terms (days)"),
    "credit_used": ("已用额度", "Credit used"),
    "add_buyer": ("添加批发客户", "Add a buyer"),
    "buyer_token": ("客户令牌（只显示一次）", "Buyer token (shown once)"),
    "quote_id": ("报价单号", "Quote id"),
    "unit_price_yuan": ("单价（元）", "Unit price (yuan)"),
    "valid_until": ("有效期至", "Valid until"),
    "respond": ("回复报价", "Send quote"),
    "pickup_points": ("自提点", "Pickup points"),
    "leader": ("团长", "Leader"),
    "leader_token": ("团长令牌（只显示一次）", "Leader token (shown once)"),
    "new_leader_token": ("重新生成团长令牌", "Issue a new leader token"),
    "joined": ("已参团", "Joined"),
    "closes_at": ("截团时间", "Closes"),
    "pickup_date": ("提货日", "Pickup day"),
    "campaign_new": ("新建活动", "New campaign"),
    "starts_at": ("开始", "Starts"),
    "ends_at": ("结束", "Ends"),
    "slug": ("网址标识", "URL name"),
    "headline": ("宣传语", "Headline"),
    "product_ids": ("商品编号（逗号分隔）", "Product ids (comma-separated)"),
    "promotion_codes": ("优惠码（逗号分隔）", "Promotion codes (comma-separated)"),
    # leader
    "leader_page": ("团长页面", "Leader page"),
    "leader_token_label": ("团长令牌", "Leader token"),
    "manifest_today": ("今日提货清单", "Today's pickup list"),
    "mark_collected": ("确认取货", "Mark collected"),
    "collected": ("已取货", "Collected"),
    "waiting": ("待取货", "Waiting"),
    "customer": ("顾客", "Customer"),
    "items": ("商品", "Items"),
    "totals": ("汇总", "Totals"),
}

# The shopper's pages (storefront): browsing, choosing, cart and checkout.
STOREFRONT: dict[str, tuple[str, str]] = {
    "all_products": ("全部商品", "All products"),
    "sort": ("排序", "Sort"),
    "sort_relevance": ("综合", "Relevance"),
    "sort_price_asc": ("价格从低到高", "Price: low to high"),
    "sort_price_desc": ("价格从高到低", "Price: high to low"),
    "sort_newest": ("最新上架", "Newest"),
    "sort_best_selling": ("销量优先", "Best-selling"),
    "filters": ("筛选", "Filters"),
    "price_min": ("最低价", "Min ¥"),
    "price_max": ("最高价", "Max ¥"),
    "in_stock_only": ("仅看有货", "In stock only"),
    "pickup_city": ("可到店自提的城市", "Pick up in a store in"),
    "any_city": ("不限", "Any city"),
    "apply": ("确定", "Apply"),
    "clear_filters": ("清除筛选", "Clear filters"),
    "n_products": ("共 {n} 件商品", "{n} products"),
    "page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "prev_page": ("上一页", "Previous page"),
    "next_page": ("下一页", "Next page"),
    "pages": ("分页", "Pages"),
    "seller": ("店铺", "Seller"),
    "visit_shop": ("进店逛逛", "Visit the shop"),
    "rating_n": ("{rating} 分 · {n} 条评价", "{rating} / 5 · {n} reviews"),
    "no_rating": ("暂无评分", "No ratings yet"),
    "reviews": ("商品评价", "Reviews"),
    "no_reviews": ("暂无评价。", "No reviews yet."),
    "seller_reply": ("商家回复", "Seller's reply"),
    "licence": ("营业执照", "Business licence"),
    "verified_seller": ("已认证企业", "Verified business"),
    "self_declaration": ("个人卖家自我声明", "Individual seller's declaration"),
    "completed_orders": ("已完成订单 {n} 笔", "{n} orders completed"),
    "in_stock": ("有货", "In stock"),
    "few_left": ("仅剩 {n} 件", "Only {n} left"),
    "pickup_at": ("可到店自提: {places}", "Pick up at: {places}"),
    "with_coupon": ("用券 {code} 后 {price}", "{price} with coupon {code}"),
    "choose": ("请选择", "Choose"),
    "unavailable": ("无此组合", "Not available"),
    "no_such_option": ("这个颜色和尺码的组合没有货，请换一个。", "That combination is not available: choose another."),
    "not_enough": ("库存不足，无法加入这么多件。", "There are not that many in stock."),
    "only_n_left": ("库存只剩 {n} 件，请减少数量。", "Only {n} left: lower the quantity."),
    "bad_quantity": ("数量应为 1 到 {max} 之间的整数。", "The quantity must be a whole number from 1 to {max}."),
    "no_such_product": ("这件商品已下架。", "This product is no longer for sale."),
    "update": ("更新", "Update"),
    "cart_updated": ("购物车已更新。", "Cart updated."),
    "unit_price": ("单价", "Unit price"),
    "order_summary": ("订单商品", "Items"),
    "fix_errors": ("请修改标红的项目后再提交。", "Please correct the fields marked below."),
    "choose_province": ("请选择省份", "Choose a province"),
    "mobile_hint": ("手机号码或带区号的固定电话", "Mobile number, or landline with area code"),
    "postal_hint": ("6 位数字", "6 digits"),
    "receiver": ("收货人", "Recipient"),
    "district_county": ("区/县", "District"),
    "gallery": ("商品图片", "Pictures"),
    "picture_of": ("图片 {n}", "Picture {n}"),
    "placed_at": ("下单时间", "Ordered"),
    "options_label": ("已选", "Chosen"),
    "description_label": ("商品详情", "Details"),
    "home_title": ("流通商城 · 正品好货，到店自提", "Liutong Shop · shop online, collect in store"),
    "home_description": ("流通商城：服装、家电、农产品、日用百货，线上下单，门店自提或快递到家。",
                         "Liutong Shop: clothing, appliances, farm produce and daily goods, delivered or "
                         "collected in store."),
}
MESSAGES.update(STOREFRONT)

FLASH: dict[str, tuple[str, str]] = {
    "flash_sale": ("限时秒杀", "Flash sale"),
    "flash_sales": ("限时秒杀", "Flash sales"),
    "flash_price": ("秒杀价", "Flash price"),
    "list_price": ("原价", "List price"),
    "flash_buy": ("立即抢购", "Buy now"),
    "flash_soon": ("即将开抢", "Opens soon"),
    "flash_gone": ("已抢光", "Sold out"),
    "flash_over": ("已结束", "Ended"),
    "flash_opens_in": ("距开抢", "Opens in"),
    "flash_ends_in": ("距结束", "Ends in"),
    "flash_limit": ("每人限购 {n} 件", "Limit {n} per buyer"),
    "flash_checkout": ("秒杀下单", "Flash sale checkout"),
    "flash_sign_in": ("登录后即可抢购", "Sign in to buy"),
    "flash_place": ("提交秒杀订单", "Place the flash order"),
    "flash_hold_note": ("下单后请在 {n} 分钟内付款，超时订单将自动取消。",
                        "Pay within {n} minutes of ordering, or the order is cancelled."),
    "flash_sold_out": ("手慢了，商品已抢光。", "Too late: this flash sale is sold out."),
    "flash_limit_reached": ("您已达到本场秒杀的限购数量。",
                            "You have bought as many as this flash sale allows each buyer."),
    "flash_not_started": ("秒杀还没开始，请在开抢后再提交。",
                          "The flash sale has not started yet: try again when it opens."),
    "flash_ended": ("本场秒杀已结束。", "This flash sale has ended."),
    "flash_busy": ("抢购的人太多了，请稍后再试。", "Too many people are buying: please try again in a moment."),
}
MESSAGES.update(FLASH)

# The console's webhook page: deliveries to the merchant's endpoints, and the ones given up on (dead letters).
WEBHOOKS: dict[str, tuple[str, str]] = {
    "webhooks": ("Webhook 推送", "Webhooks"),
    "webhook_search_hint": ("事件类型或接收地址", "Event type or endpoint URL"),
    "event_no": ("事件编号", "Event id"), "event_type": ("事件类型", "Event type"),
    "endpoint_url": ("接收地址", "Endpoint"), "attempts": ("尝试次数", "Attempts"),
    "last_response": ("最后响应码", "Last response"), "last_error": ("最后错误", "Last error"),
    "last_attempt": ("最后尝试", "Last attempt"),
    "wh_pending": ("重试中", "Retrying"), "wh_delivered": ("已送达", "Delivered"),
    "wh_failed": ("已放弃（死信）", "Given up (dead letter)"), "wh_cancelled": ("已取消", "Cancelled"),
}
MESSAGES.update(WEBHOOKS)

STATUS: dict[str, tuple[str, str]] = {
    "pending_payment": ("待付款", "Awaiting payment"), "paid": ("已付款", "Paid"),
    "confirmed": ("已确认", "Confirmed"), "shipped": ("已发货", "Shipped"), "delivered": ("已送达", "Delivered"),
    "completed": ("已完成", "Completed"), "cancelled": ("已取消", "Cancelled"), "unpaid": ("未付款", "Unpaid"),
    "refunded": ("已退款", "Refunded"), "partially_refunded": ("部分退款", "Partly refunded"),
    "open": ("进行中", "Open"), "succeeded": ("成团", "Succeeded"), "failed": ("未成团", "Failed"),
    "resolved": ("已处理", "Resolved"), "active": ("上架", "Active"), "draft": ("草稿", "Draft"),
    "pending_review": ("待审核", "Pending review"), "taken_down": ("已下架", "Taken down"),
    "scheduled": ("未开始", "Not started"), "live": ("进行中", "Live"), "ended": ("已结束", "Ended"),
}


def pick(value: str | None) -> Lang:
    """The language from a cookie or query value; Chinese unless English was chosen."""
    return "en" if value == "en" else DEFAULT_LANG


def translate(lang: Lang, key: str, **kwargs: object) -> str:
    """The message in `lang`; the key itself when it is missing (visible in review, never a 500)."""
    pair = MESSAGES.get(key) or STATUS.get(key) or CONSOLE.get(key)
    text = key if pair is None else pair[0 if lang == "zh" else 1]
    return text.format(**kwargs) if kwargs else text


CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€"}


def money(amount: int | None, currency: str | None = "CNY") -> str:
    """Fen for people, with thousands separators: 789000000 -> '¥7,890,000.00' (pages keep it on one line)."""
    value = int(amount or 0)
    symbol = CURRENCY_SYMBOLS.get(currency or "CNY", f"{currency} ")
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value) // 100:,}.{abs(value) % 100:02d}"


def local_time(value: datetime | str | None, *, seconds: bool = False, with_time: bool = True) -> str:
    """A stored UTC time (a datetime or RFC 3339 text; naive values are UTC) as Asia/Shanghai wall time, to the
    minute: '2026-12-03 15:45' (`seconds`: with them; not `with_time`: the date alone); '—' for none."""
    if value is None or value == "":
        return "—"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d" if not with_time else "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
