from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.community import service
from app.community.models import PickupPoint
from app.community.schemas import (
    BookingIn,
    BookingOut,
    CollectIn,
    CommissionOut,
    GroupBuyIn,
    GroupBuyOut,
    JoinIn,
    JoinOut,
    LeaderTokenOut,
    ManifestOut,
    PickupPointCreated,
    PickupPointIn,
    PickupPointOut,
    ServiceSlotIn,
    ServiceSlotOut,
)
from app.core.deps import (
    CustomerDep,
    IdempotencyKey,
    MerchantDep,
    MerchantOrLeaderDep,
    SessionDep,
    SettingsDep,
)
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from app.orders.schemas import OrderOut

router = APIRouter(prefix="/v1/community", tags=["community"])


def _point_out(point: PickupPoint) -> PickupPointOut:
    return PickupPointOut.model_validate(point)


@router.post("/pickup-points", status_code=201, response_model=PickupPointCreated)
async def create_pickup_point(body: PickupPointIn, merchant: MerchantDep, session: SessionDep) -> PickupPointCreated:
    """A pickup point run by a leader; the response carries the leader's token (shown once)."""
    point, token = await service.create_pickup_point(session=session, merchant_id=merchant.tenant, body=body)
    return PickupPointCreated(**_point_out(point).model_dump(), leader_token=token)


@router.get("/pickup-points", response_model=Page[PickupPointOut])
async def list_pickup_points(merchant: MerchantDep, session: SessionDep) -> Page[PickupPointOut]:
    points = await service.list_pickup_points(session=session, merchant_id=merchant.tenant)
    return Page(items=[_point_out(p) for p in points])


@router.get("/pickup-points/{pickup_point_id}", response_model=PickupPointOut)
async def get_pickup_point(pickup_point_id: str, principal: MerchantOrLeaderDep,
                           session: SessionDep) -> PickupPointOut:
    """The merchant's point, or the leader's own."""
    return _point_out(await service.get_pickup_point(session=session, principal=principal,
                                                     pickup_point_id=pickup_point_id))


@router.post("/pickup-points/{pickup_point_id}/leader-token", status_code=201, response_model=LeaderTokenOut)
async def reissue_leader_token(pickup_point_id: str, merchant: MerchantDep, session: SessionDep) -> LeaderTokenOut:
    """A new leader token; the point's earlier leader tokens are revoked."""
    token = await service.reissue_leader_token(session=session, merchant_id=merchant.tenant,
                                               pickup_point_id=pickup_point_id)
    return LeaderTokenOut(pickup_point_id=pickup_point_id, leader_token=token)


DateQuery = Annotated[date | None, Query(description="Pickup date (Shanghai); today when absent")]


@router.get("/pickup-points/{pickup_point_id}/manifest", response_model=ManifestOut)
async def manifest(pickup_point_id: str, principal: MerchantOrLeaderDep, session: SessionDep,
                   date: DateQuery = None) -> ManifestOut:
    """What each resident collects at the point on that pickup date, with pickup codes."""
    out = await service.manifest(session=session, principal=principal, pickup_point_id=pickup_point_id, day=date)
    return ManifestOut.model_validate(out)


@router.get("/pickup-points/{pickup_point_id}/uncollected", response_model=ManifestOut)
async def uncollected(pickup_point_id: str, principal: MerchantOrLeaderDep, session: SessionDep) -> ManifestOut:
    """Orders still waiting at the point several days after their pickup date (flagged `overdue`)."""
    out = await service.manifest(session=session, principal=principal, pickup_point_id=pickup_point_id, day=None,
                                 overdue_only=True)
    return ManifestOut.model_validate(out)


@router.post("/pickup-points/{pickup_point_id}/collect", response_model=OrderOut)
async def collect(pickup_point_id: str, body: CollectIn, principal: MerchantOrLeaderDep,
                  session: SessionDep) -> OrderOut:
    """The leader hands a resident's order over against its pickup code; the order completes."""
    out = await service.collect(session=session, principal=principal, pickup_point_id=pickup_point_id,
                                code=body.pickup_code, order_id=body.order_id)
    return OrderOut.model_validate(out)


@router.get("/pickup-points/{pickup_point_id}/commission", response_model=CommissionOut)
async def commission(pickup_point_id: str, principal: MerchantOrLeaderDep, session: SessionDep,
                     from_: Annotated[date, Query(alias="from", description="First Shanghai day")],
                     to: Annotated[date, Query(description="Last Shanghai day (inclusive)")]) -> CommissionOut:
    """The leader's commission on orders collected at the point in the period (rate × collected totals)."""
    out = await service.commission_report(session=session, principal=principal, pickup_point_id=pickup_point_id,
                                          first=from_, last=to)
    return CommissionOut.model_validate(out)


@router.post("/group-buys", status_code=201, response_model=GroupBuyOut)
async def create_group_buy(body: GroupBuyIn, merchant: MerchantDep, session: SessionDep) -> GroupBuyOut:
    """Open a group-buy: group price, minimum to succeed, maximum held, cut-off and pickup date."""
    return GroupBuyOut.model_validate(await service.create_group_buy(session=session, merchant_id=merchant.tenant,
                                                                     body=body))


@router.get("/group-buys", response_model=Page[GroupBuyOut])
async def list_group_buys(
    merchant: MerchantDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(pattern="^(open|succeeded|failed)$")] = None,
) -> Page[GroupBuyOut]:
    items, last = await service.list_group_buys(session=session, merchant_id=merchant.tenant, status=status,
                                                before=decode_cursor(cursor), limit=limit)
    return Page(items=[GroupBuyOut.model_validate(i) for i in items],
                next_cursor=encode_cursor(last) if last else None)


@router.get("/group-buys/{group_buy_id}", response_model=GroupBuyOut)
async def get_group_buy(group_buy_id: str, session: SessionDep) -> GroupBuyOut:
    """Public: residents see the group-buy before joining."""
    return GroupBuyOut.model_validate(await service.get_group_buy(session=session, group_buy_id=group_buy_id))


@router.post("/group-buys/{group_buy_id}/join", status_code=201, response_model=JoinOut)
async def join_group_buy(group_buy_id: str, body: JoinIn, customer: CustomerDep, session: SessionDep,
                         settings: SettingsDep, idempotency_key: IdempotencyKey = None) -> JoinOut:
    """Join with a quantity and a pickup point: a `community` order, its units held; 409 when closed or full."""
    _, out = await service.join_group_buy(session=session, settings=settings, principal=customer,
                                          group_buy_id=group_buy_id, body=body, idempotency_key=idempotency_key)
    return JoinOut.model_validate(out)


@router.post("/group-buys/{group_buy_id}/close", response_model=GroupBuyOut)
async def close_group_buy(group_buy_id: str, merchant: MerchantDep, session: SessionDep,
                          settings: SettingsDep) -> GroupBuyOut:
    """Close now: `succeeded` (orders stay, ready for pickup) or `failed` (orders cancelled, refunds sent)."""
    out = await service.close_group_buy(session=session, settings=settings, merchant_id=merchant.tenant,
                                        group_buy_id=group_buy_id)
    return GroupBuyOut.model_validate(out)


@router.post("/service-slots", status_code=201, response_model=ServiceSlotOut)
async def create_slot(body: ServiceSlotIn, merchant: MerchantDep, session: SessionDep) -> ServiceSlotOut:
    """A bookable time slot (with a capacity) of one of the merchant's `services` products."""
    return ServiceSlotOut.model_validate(await service.create_slot(session=session, merchant_id=merchant.tenant,
                                                                   body=body))


@router.get("/service-slots", response_model=Page[ServiceSlotOut])
async def list_slots(session: SessionDep, variant_id: Annotated[str, Query(min_length=1, max_length=40)],
                     limit: LimitQuery = 50) -> Page[ServiceSlotOut]:
    """Upcoming slots of a service with the places left (public)."""
    items = await service.list_slots(session=session, variant_id=variant_id, limit=limit)
    return Page(items=[ServiceSlotOut.model_validate(i) for i in items])


@router.post("/service-slots/{slot_id}/book", status_code=201, response_model=BookingOut)
async def book_slot(slot_id: str, body: BookingIn, customer: CustomerDep, session: SessionDep,
                    settings: SettingsDep, idempotency_key: IdempotencyKey = None) -> BookingOut:
    """Book one place in the slot: a `community` order through the order core; 409 when the slot is full."""
    _, out = await service.book_slot(session=session, settings=settings, principal=customer, slot_id=slot_id,
                                     body=body, idempotency_key=idempotency_key)
    return BookingOut.model_validate(out)
