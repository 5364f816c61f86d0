"""Sending work to the queue. Always after the store has the documents: a message may
be lost (a broker restart), a stored document is not, and the recovery sweep sends
again whatever the store says is unfinished."""
from __future__ import annotations

from typing import Iterable

from celery import chord


def send_documents(document_ids: Iterable[int]) -> int:
    from workers.tasks import start_document
    from workers.celery_app import app
    sent = 0
    with app.producer_or_acquire() as producer:      # one connection for the lot
        for document_id in document_ids:
            start_document.apply_async((document_id,), producer=producer)
            sent += 1
    return sent


def send_pages(document_id: int, numbers: list[int]) -> None:
    """One task per page, then the assembly once all of them have run."""
    from workers.tasks import assemble_document, process_page
    if not numbers:
        assemble_document.delay(None, document_id)
        return
    header = [process_page.si(document_id, number) for number in numbers]
    chord(header)(assemble_document.s(document_id))


def send_assembly(document_id: int) -> None:
    from workers.tasks import assemble_document
    assemble_document.delay(None, document_id)
