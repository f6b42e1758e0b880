from __future__ import annotations

from pydantic import Field

from app.core.schemas import OutSchema, UtcDatetime


class RowErrorOut(OutSchema):
    line: int = Field(description="Line in the file (the header is line 1)")
    field: str = Field(description="The column, or `file` for the file as a whole")
    message: str


class ImportJobOut(OutSchema):
    id: str
    kind: str = Field(description="products | stock")
    status: str = Field(description="queued | running | succeeded | failed")
    phase: str = Field(description="queued | reading | checking | pictures | applying | done")
    apply_good_rows: bool
    encoding: str | None = Field(default=None, description="utf-8 or gbk, as detected")
    total_rows: int
    processed_rows: int = Field(description="Rows checked so far")
    applied_rows: int
    error_rows: int
    errors: list[RowErrorOut] = Field(description="Every bad row's errors, by line (the first 1,000)")
    detail: str | None = None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None = None
