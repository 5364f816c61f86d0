"""Where each document and page is: the bookkeeping the tasks do around the pipeline.

Every step checks the stored state before it acts, so a task that runs twice (a
redelivery, a recovery re-queue) finds its work done and does nothing, and a page
that keeps killing its worker is given up after a few attempts instead of forever.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select, update

from store.db import Store
from store.models import (Batch, BatchItem, Document, PageRow, PageStatus, Status,
                                  utcnow)


# ------------------------------------------------------------------ submitting

@dataclass
class SubmittedFile:
    path: str            # absolute
    sha256: str
    size: int


@dataclass
class Registration:
    batch: str
    to_queue: list[int]               # new documents (and failed ones being retried)
    already: dict[str, int]           # status -> count of documents already in the store


def register(store: Store, batch_name: str, files: list[SubmittedFile],
             retry_failed: bool = False) -> Registration:
    """Add the files to the batch (created if new). A file whose content is already
    in the store is not stored again, only linked to this batch."""
    outcome = Registration(batch=batch_name, to_queue=[], already={})
    with store.session(write=True) as session:
        batch = session.scalar(select(Batch).where(Batch.name == batch_name))
        if batch is None:
            batch = Batch(name=batch_name)
            session.add(batch)
            session.flush()
        linked = set(session.scalars(select(BatchItem.document_id).where(BatchItem.batch_id == batch.id)))
        for chunk_start in range(0, len(files), 500):
            chunk = files[chunk_start:chunk_start + 500]
            known = {d.sha256: d for d in session.scalars(
                select(Document).where(Document.sha256.in_([f.sha256 for f in chunk])))}
            for item in chunk:
                document = known.get(item.sha256)
                if document is None:
                    document = Document(sha256=item.sha256, path=item.path,
                                        file_name=os.path.basename(item.path),
                                        size_bytes=item.size, status=Status.QUEUED)
                    session.add(document)
                    session.flush()
                    known[item.sha256] = document
                    outcome.to_queue.append(document.id)
                elif document.id in outcome.to_queue:
                    pass                                  # the same content twice in this call
                elif retry_failed and document.status == Status.FAILED:
                    _reset(session, document, item.path)
                    outcome.to_queue.append(document.id)
                else:
                    outcome.already[document.status] = outcome.already.get(document.status, 0) + 1
                if document.id not in linked:
                    session.add(BatchItem(batch_id=batch.id, document_id=document.id, path=item.path))
                    linked.add(document.id)
    return outcome


def _reset(session, document: Document, path: str) -> None:
    for page in list(document.pages):
        session.delete(page)
    document.status, document.error, document.page_count = Status.QUEUED, None, None
    document.path, document.result = path, None
    document.started_at = document.finished_at = None
    document.updated_at = utcnow()


# ------------------------------------------------------------------ documents

@dataclass
class DocumentFile:
    path: str
    sha256: str
    file_name: str


def document_to_start(store: Store, document_id: int) -> Optional[DocumentFile]:
    """The file of a document that still needs work; None if it is finished or gone."""
    with store.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.status in Status.FINAL:
            return None
        return DocumentFile(document.path, document.sha256, document.file_name)


def set_pages(store: Store, document_id: int, page_count: int) -> list[int]:
    """Record the page count and a row per page; return the pages still to do."""
    now = utcnow()
    with store.session(write=True) as session:
        document = session.get(Document, document_id)
        if document is None or document.status in Status.FINAL:
            return []
        have = {p.number: p for p in document.pages}
        for number in range(1, page_count + 1):
            if number not in have:
                have[number] = PageRow(document_id=document.id, number=number,
                                       status=PageStatus.PENDING, attempts=0)
                session.add(have[number])
        document.page_count = page_count
        document.status = Status.RUNNING
        document.started_at = document.started_at or now
        document.updated_at = now
        return [n for n in range(1, page_count + 1) if have[n].status not in PageStatus.FINISHED]


def fail_document(store: Store, document_id: int, reason: str) -> None:
    now = utcnow()
    with store.session(write=True) as session:
        document = session.get(Document, document_id)
        if document is None or document.status in Status.FINAL:
            return
        document.status, document.error = Status.FAILED, reason
        document.finished_at = document.updated_at = now


# ------------------------------------------------------------------ pages

@dataclass
class PageClaim:
    path: str
    sha256: str
    attempt: int
    gave_up: bool = False     # started too often without finishing: now failed


def claim_page(store: Store, document_id: int, number: int, worker: str,
               max_attempts: int) -> Optional[PageClaim]:
    """Mark a page as started by `worker`. None when there is nothing to do: the page
    is finished already or its document is final."""
    now = utcnow()
    with store.session(write=True) as session:
        page = session.scalar(select(PageRow).where(PageRow.document_id == document_id,
                                                    PageRow.number == number))
        if page is None or page.status in PageStatus.FINISHED:
            return None
        document = page.document
        if document.status in Status.FINAL:
            return None
        if page.attempts >= max_attempts:
            page.status = PageStatus.FAILED
            page.error = (f'gave up after {page.attempts} attempts: each time the worker died '
                          f'or the page ran past the hard time limit')
            page.finished_at = document.updated_at = now
            return PageClaim(document.path, document.sha256, page.attempts, gave_up=True)
        page.attempts += 1
        page.status, page.worker, page.started_at = PageStatus.RUNNING, worker, now
        document.updated_at = now
        return PageClaim(document.path, document.sha256, page.attempts)


def finish_page(store: Store, document_id: int, number: int, result: dict, image_path: str,
                width: int, height: int, dpi: int, seconds: float) -> None:
    now = utcnow()
    with store.session(write=True) as session:
        page = session.scalar(select(PageRow).where(PageRow.document_id == document_id,
                                                    PageRow.number == number))
        if page is None or page.status in PageStatus.FINISHED:
            return                     # a duplicate run got there first: same result
        page.status, page.error, page.result = PageStatus.DONE, None, result
        page.image_path, page.width, page.height, page.dpi = image_path, width, height, dpi
        page.seconds, page.finished_at = round(seconds, 3), now
        session.execute(update(Document).where(Document.id == document_id).values(updated_at=now))


def fail_page(store: Store, document_id: int, number: int, reason: str) -> None:
    now = utcnow()
    with store.session(write=True) as session:
        page = session.scalar(select(PageRow).where(PageRow.document_id == document_id,
                                                    PageRow.number == number))
        if page is None or page.status in PageStatus.FINISHED:
            return
        page.status, page.error, page.finished_at = PageStatus.FAILED, reason, now
        session.execute(update(Document).where(Document.id == document_id).values(updated_at=now))


@dataclass
class PagesState:
    file_name: str
    sha256: str
    page_count: int
    results: dict[int, dict]          # page number -> stored PageResult
    errors: dict[int, str]            # page number -> why it failed
    unfinished: list[int]
    seconds: float                    # summed over pages


def pages_state(store: Store, document_id: int) -> Optional[PagesState]:
    """What the assembly needs; None if the document is final already."""
    with store.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.status in Status.FINAL or not document.page_count:
            return None
        pages = {p.number: p for p in document.pages}
        return PagesState(
            file_name=document.file_name, sha256=document.sha256, page_count=document.page_count,
            results={n: p.result for n, p in pages.items() if p.status == PageStatus.DONE},
            errors={n: p.error or 'failed' for n, p in pages.items() if p.status == PageStatus.FAILED},
            unfinished=[n for n in range(1, document.page_count + 1)
                        if n not in pages or pages[n].status not in PageStatus.FINISHED],
            seconds=sum(p.seconds or 0 for p in pages.values()))


def store_document(store: Store, document_id: int, document, error: Optional[str],
                   timings: dict) -> bool:
    """Store the assembled document and make it final (extracted, or failed with
    `error`). False if it was final already: another assembly got there first."""
    from sqlalchemy.exc import IntegrityError

    from store.results import replace_results
    now = utcnow()
    try:
        with store.session(write=True) as session:
            # FOR UPDATE on PostgreSQL: two assemblies of one document take turns (SQLite
            # writers take turns anyway) and the second sees the first one's status.
            row = session.get(Document, document_id, with_for_update=not store.is_sqlite)
            if row is None or row.status in Status.FINAL:
                return False
            if document is not None:
                replace_results(session, row, document)
            row.status = Status.FAILED if error else Status.EXTRACTED
            row.error = error
            row.timings = timings
            row.finished_at = row.updated_at = now
    except IntegrityError:
        return False            # the unique keys caught a concurrent assembly
    return True
