from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.deps import AnyPrincipalDep, SessionDep
from app.orders.invoices import service as invoices
from app.orders.invoices.schemas import InvoiceOut, InvoiceRequestIn, InvoiceRequestOut, OrderInvoicesOut

router = APIRouter(prefix="/v1", tags=["invoices"])


@router.post("/orders/{order_id}/invoice-request", response_model=InvoiceRequestOut)
async def request_invoice(order_id: str, body: InvoiceRequestIn, principal: AnyPrincipalDep,
                          session: SessionDep) -> InvoiceRequestOut:
    """The order's customer asks for an invoice, personal or for a company (taxpayer number checked); the
    request can be changed until the merchant issues it."""
    out = await invoices.request_invoice(session, principal=principal, order_id=order_id, kind=body.kind,
                                         title=body.title, taxpayer_id=body.taxpayer_id)
    return InvoiceRequestOut.model_validate(out)


@router.post("/orders/{order_id}/invoices", status_code=201, response_model=InvoiceOut)
async def issue_invoice(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> InvoiceOut:
    """Merchant: issue the invoice the buyer asked for (once paid). Amounts include VAT; the discount is spread
    over the lines and delivery is a line of its own. A refund afterwards issues a red invoice by itself."""
    return InvoiceOut.model_validate(await invoices.issue(session, principal=principal, order_id=order_id))


@router.get("/orders/{order_id}/invoices", response_model=OrderInvoicesOut)
async def list_invoices(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderInvoicesOut:
    """The order's invoice request and its invoices, blue and red, oldest first."""
    out = await invoices.order_invoices(session, principal=principal, order_id=order_id)
    return OrderInvoicesOut.model_validate(out)


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def invoice_pdf(invoice_id: str, principal: AnyPrincipalDep, session: SessionDep) -> Response:
    """An invoice's PDF (`pdf_url`): for its order's customer and merchant (404 for anyone else)."""
    name, pdf = await invoices.invoice_pdf(session, principal=principal, invoice_id=invoice_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})
