"""Read-only questions about batches, for `status`, `submit --wait` and exports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from store.models import (Batch, BatchItem, Document, PageRow, PageStatus, Status)


@dataclass
class BatchProgress:
    name: str
    documents: dict[str, int] = field(default_factory=dict)    # status -> count
    pages_total: int = 0            # pages counted so far (known once a document started)
    pages_done: int = 0
    pages_failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.documents.values())

    @property
    def finished(self) -> int:
        return sum(self.documents.get(s, 0) for s in Status.FINAL)

    @property
    def failed(self) -> int:
        return self.documents.get(Status.FAILED, 0)

    @property
    def complete(self) -> bool:
        return self.finished == self.total


def find_batch(session: Session, name: str) -> Optional[Batch]:
    return session.scalar(select(Batch).where(Batch.name == name))


def batch_progress(session: Session, batch: Batch) -> BatchProgress:
    progress = BatchProgress(name=batch.name)
    in_batch = select(BatchItem.document_id).where(BatchItem.batch_id == batch.id)
    for status, count in session.execute(
            select(Document.status, func.count()).where(Document.id.in_(in_batch))
            .group_by(Document.status)):
        progress.documents[status] = count
    total, done, failed = session.execute(
        select(func.count(PageRow.id),
               func.coalesce(func.sum(case((PageRow.status == PageStatus.DONE, 1), else_=0)), 0),
               func.coalesce(func.sum(case((PageRow.status == PageStatus.FAILED, 1), else_=0)), 0))
        .where(PageRow.document_id.in_(in_batch))).one()
    progress.pages_total, progress.pages_done, progress.pages_failed = total, int(done), int(failed)
    return progress


def batch_documents(session: Session, batch: Batch) -> list[tuple[BatchItem, Document]]:
    """The batch's documents with the path each was submitted under, in path order."""
    return [(item, document) for item, document in session.execute(
        select(BatchItem, Document).join(Document, Document.id == BatchItem.document_id)
        .where(BatchItem.batch_id == batch.id).order_by(BatchItem.path))]


def failures(session: Session, batch: Batch) -> list[tuple[str, str]]:
    """(submitted path, reason) of each failed document."""
    return [(item.path, document.error or 'failed')
            for item, document in batch_documents(session, batch)
            if document.status == Status.FAILED]


def all_batches(session: Session) -> list[BatchProgress]:
    return [batch_progress(session, batch)
            for batch in session.scalars(select(Batch).order_by(Batch.created_at, Batch.id))]


def batch_report(session: Session, batch: Batch):
    """The batch report (extractor/report.py) of the batch's finished documents, as
    they stand now: with reviewers' corrections and the flags still open."""
    import os

    from extractor import report
    from store.results import current_document
    items = []
    for item, document in batch_documents(session, batch):
        name = os.path.basename(item.path)
        if document.status == Status.FAILED:
            items.append(report.failed_report(name, document.error or 'failed', document.page_count))
        elif document.status == Status.EXTRACTED:
            current = current_document(session, document)
            if current is not None:
                summary = report.document_report(current)
                items.append(summary.model_copy(update={'file': name}))
    return report.batch_report(items)
