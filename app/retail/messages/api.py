from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import AdminDep, SessionDep, SettingsDep
from app.retail.messages import service
from app.retail.messages.schemas import MessageIn, MessageOut, UnsubscribedOut

router = APIRouter(prefix="/v1", tags=["customers"])


@router.post("/admin/marketing/messages", status_code=201, response_model=MessageOut)
async def create_message(body: MessageIn, admin: AdminDep, session: SessionDep, settings: SettingsDep) -> MessageOut:
    """Write a commercial message (not sent yet); it names its sender, the operator unless told otherwise."""
    return MessageOut.model_validate(await service.create_message(
        session=session, settings=settings, actor=admin.scope, subject=body.subject, body=body.body,
        sender=body.sender))


@router.post("/admin/marketing/messages/{message_id}/send", response_model=MessageOut)
async def send_message(message_id: str, _: AdminDep, session: SessionDep, settings: SettingsDep) -> MessageOut:
    """Send it once, to the customers consenting to marketing now, each with a one-click unsubscribe link."""
    return MessageOut.model_validate(await service.send_message(session=session, settings=settings,
                                                                message_id=message_id))


@router.get("/unsubscribe/{token}", response_model=UnsubscribedOut)
@router.post("/unsubscribe/{token}", response_model=UnsubscribedOut, include_in_schema=False)  # RFC 8058 one-click
async def unsubscribe(token: str, session: SessionDep) -> UnsubscribedOut:
    """The link in every commercial message: no sign-in, free, at once; no sender sends marketing after it."""
    return UnsubscribedOut.model_validate(await service.unsubscribe(session=session, token=token))
