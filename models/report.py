"""The batch report: per document, what was extracted, what is flagged for review and
how many wrong values are expected to remain among the fields that are not flagged."""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field


class DocumentReport(BaseModel):
    file: str
    forms: int
    pages: int
    fields: int                       # leaf fields of every form
    flagged_fields: int               # fields at least one flag covers
    by_reason: dict[str, int] = Field(default_factory=dict)   # fields flagged, per reason
    # Expected wrong values among the unflagged fields: unflagged fields x the silent
    # error rate measured on generated scans of similar difficulty (see extractor/report.py).
    residual_errors: float = 0.0
    residual_rate: float = 0.0        # per unflagged field (the forms' rates, weighted)
    scan_quality: str = ''            # the worst page grade: good, fair, rough or unreadable
    page_grades: dict[int, str] = Field(default_factory=dict)   # page -> grade
    error: Optional[str] = None       # the document failed: why


class BatchReport(BaseModel):
    documents: list[DocumentReport] = Field(default_factory=list)

    @property
    def fields(self) -> int:
        return sum(d.fields for d in self.documents)

    @property
    def flagged_fields(self) -> int:
        return sum(d.flagged_fields for d in self.documents)

    @property
    def residual_errors(self) -> float:
        return sum(d.residual_errors for d in self.documents)
