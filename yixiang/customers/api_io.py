"""Export API: GET /api/v1/exports/customers?format=xlsx|csv&<the list's filters>."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from yixiang.customers import exporting

router = Router(tags=["exports"])

ChoiceLetter = Literal["A", "B", "C", "D", ""]
_BINARY = {"schema": {"type": "string", "format": "binary"}}


class ExportParams(Schema):
    format: Literal["xlsx", "csv"] = Field("xlsx", description="xlsx, or csv (UTF-8 with BOM)")
    q: str = Field("", max_length=100, description="Name, pinyin, initials, phone fragment, company, tag")
    stage: int | None = Field(None, ge=-1, le=5)
    grade: ChoiceLetter = ""
    tag: str = Field("", max_length=50)
    owner: str = Field("", max_length=20, description="'mine', 'pool' or a user id")
    kind: Literal["individual", "company", ""] = ""
    source: str = Field("", max_length=20)
    region: int | None = None
    value_tier: ChoiceLetter = ""


@router.get(
    "/customers",
    summary="Export the visible customers as .xlsx or CSV",
    description="The customers the caller may see, with the list's filters. Bank card and ID numbers are masked. "
    "Each export is recorded in the audit log.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _BINARY,
                    "text/csv": _BINARY,
                },
            }
        }
    },
)
def export_customers(request: HttpRequest, params: Query[ExportParams]) -> HttpResponse:
    filters = exporting.filters_from_query(params.model_dump(exclude={"format"}, exclude_none=True))
    export = exporting.export_customers(user=request.user, filters=filters, fmt=params.format)
    return exporting.file_response(export)


routers = [("/exports", router)]
