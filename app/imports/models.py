"""Import jobs: a CSV a merchant sent, checked and applied in the background, with its progress and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base, JSONType


class ImportJob(Base):
    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_merchant_id_id", "merchant_id", "id"),
                      Index("ix_import_job_status_updated_at", "status", "updated_at"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    kind: Mapped[str] = mapped_column(String(20))  # products | stock
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | succeeded | failed
    phase: Mapped[str] = mapped_column(String(20), default="queued")  # reading | checking | pictures | applying
    apply_good_rows: Mapped[bool] = mapped_column(Boolean, default=False)
    encoding: Mapped[str | None] = mapped_column(String(10))  # utf-8 | gbk, as detected
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    applied_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # [{line, field, message}]
    detail: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the file as sent
    files: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # uploaded picture name -> asset id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
