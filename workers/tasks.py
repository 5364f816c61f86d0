"""The tasks: thin wrappers over extractor.pipeline, with the store keeping score.

    start_document(id)   count pages (a bad file ends here as `failed`), then send
                         chord([process_page(id, n) for each page], assemble_document(id))
    process_page(id, n)  rasterise, preprocess, grid, OCR -> PageResult and page PNG, stored
    assemble_document    forms across pages, mapping, validation, flags -> stored document

Page results travel through the store, not through the chord: the chord only says
"all pages are in". So a page computed twice, a chord lost with a restarted Redis, or a
recovery re-queue (workers/recovery.py) all end in the same single stored document.

Errors: a file or page that cannot be read, is too slow (soft time limit) or trips a
bug in the pipeline is recorded as failed with its reason, and the task returns
normally: the worker goes on with the next one. Only transient errors (the store or
the broker unreachable, a full disk for the page image) are retried, with exponential
back-off.
"""
from __future__ import annotations

import logging
import os
import time

from celery.exceptions import SoftTimeLimitExceeded

from workers.celery_app import app
from workers.settings import RETRY_BACKOFF_MAX
from store import tracking
from store.db import open_store

log = logging.getLogger(__name__)
settings = app.extractor_settings


class TransientError(Exception):
    """Worth retrying: the same call may well work in a little while."""


def _transient_errors() -> tuple:
    import kombu.exceptions
    import redis.exceptions
    import sqlalchemy.exc
    return (TransientError, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.TimeoutError, kombu.exceptions.OperationalError,
            redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
            ConnectionError, TimeoutError)


TRANSIENT = _transient_errors()
RETRYING = dict(bind=True, autoretry_for=TRANSIENT, retry_backoff=2,
                retry_backoff_max=RETRY_BACKOFF_MAX, retry_jitter=True, max_retries=8)


def _store():
    return open_store(settings.database_url)


def _reason(err: BaseException) -> str:
    """`internal error (ExcType: short message)`: one line, never OpenCV's assertion text."""
    from extractor.errors import internal_error
    return internal_error(err)


# ------------------------------------------------------------------ start

@app.task(name='extractor.start_document', ignore_result=True, **RETRYING)
def start_document(self, document_id: int) -> None:
    from extractor import ingest, pipeline
    store = _store()
    file = tracking.document_to_start(store, document_id)
    if file is None:
        return
    try:
        page_count = ingest.count_pages(file.path)
        if pipeline.sha256_of(file.path) != file.sha256:
            raise ingest.IngestError('the file changed after it was submitted (sha256 differs)')
    except ingest.IngestError as err:
        tracking.fail_document(store, document_id, str(err))
        return
    except OSError as err:
        tracking.fail_document(store, document_id, f'cannot read file: {err.strerror or err}')
        return
    except TRANSIENT:
        raise
    except Exception as err:           # a bug, or a file nothing above foresaw
        log.exception('starting document %s failed', document_id)
        tracking.fail_document(store, document_id, _reason(err))
        return
    todo = tracking.set_pages(store, document_id, page_count)
    from workers import dispatch
    dispatch.send_pages(document_id, todo)


# ------------------------------------------------------------------ pages

def _save_png(gray, sha256: str, number: int) -> str:
    import cv2
    folder = os.path.join(settings.pages_dir, sha256[:2], sha256)
    path = os.path.join(folder, f'page-{number:04d}.png')
    try:
        os.makedirs(folder, exist_ok=True)
        ok, data = cv2.imencode('.png', gray)
        if not ok:
            raise OSError('PNG encoding failed')
        tmp = f'{path}.{os.getpid()}.tmp'
        with open(tmp, 'wb') as fh:
            fh.write(data.tobytes())
        os.replace(tmp, path)          # readers never see half a file
    except OSError as err:
        raise TransientError(f'cannot write page image {path}: {err}') from err
    return path


@app.task(name='extractor.process_page', soft_time_limit=settings.page_soft_limit,
          time_limit=settings.page_hard_limit, **RETRYING)
def process_page(self, document_id: int, number: int) -> dict:
    # The return value is the same on every run, so a redelivered page counts once in
    # the chord (the Redis backend collects chord parts in a set).
    done = {'document': document_id, 'page': number}
    from extractor import ingest, ocr, pipeline
    store = _store()
    claim = tracking.claim_page(store, document_id, number, self.request.hostname or 'worker',
                                settings.max_page_attempts)
    if claim is None or claim.gave_up:
        return done
    started = time.perf_counter()
    try:
        page = ingest.load_page(claim.path, number, settings.dpi)
        render_seconds = time.perf_counter() - started
        artifacts = pipeline.PageArtifacts()
        result = pipeline.process_page(page, ocr.default_recognizer(), artifacts)
    except SoftTimeLimitExceeded:
        tracking.fail_page(store, document_id, number,
                           f'took longer than {settings.page_soft_limit:g} s (page time limit)')
        return done
    except ingest.IngestError as err:
        tracking.fail_page(store, document_id, number, str(err))
        return done
    except TRANSIENT:
        raise
    except Exception as err:           # a bug or an input the pipeline cannot take
        log.exception('page %s of document %s failed', number, document_id)
        tracking.fail_page(store, document_id, number, _reason(err))
        return done
    image_path = _save_png(artifacts.gray, claim.sha256, number)
    data = result.model_dump(mode='json')
    data['timings']['render'] = round(render_seconds, 4)
    height, width = artifacts.gray.shape[:2]
    tracking.finish_page(store, document_id, number, data, image_path, width, height,
                         page.dpi, time.perf_counter() - started)
    return done


# ------------------------------------------------------------------ assemble

def _timings(state: tracking.PagesState, assemble_seconds: float) -> dict:
    totals: dict[str, float] = {}
    for result in state.results.values():
        for stage, seconds in (result.get('timings') or {}).items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    totals = {k: round(v, 3) for k, v in totals.items()}
    totals['pages'] = round(state.seconds, 3)
    totals['assemble'] = round(assemble_seconds, 3)
    return totals


@app.task(name='extractor.assemble_document', ignore_result=True, **RETRYING)
def assemble_document(self, _chord_results, document_id: int) -> None:
    from extractor import pipeline
    from models import PageResult, Source
    store = _store()
    state = tracking.pages_state(store, document_id)
    if state is None:
        return
    if state.unfinished:
        # Fired early (a lost page after a broker restart): the recovery sweep
        # re-sends those pages, and their chord calls this again.
        log.warning('document %s: pages %s not finished yet', document_id, state.unfinished)
        return
    if state.errors:
        reason = '; '.join(f'page {n}: {e}' for n, e in sorted(state.errors.items()))
        tracking.store_document(store, document_id, None, reason, _timings(state, 0.0))
        return
    started = time.perf_counter()
    results = [PageResult.model_validate(state.results[n]) for n in sorted(state.results)]
    source = Source(file=state.file_name, sha256=state.sha256, pages=state.page_count)
    try:
        document = pipeline.assemble(source, results)
    except TRANSIENT:
        raise
    except Exception as err:           # a bug in layout or validation: fail this one only
        log.exception('assembling document %s failed', document_id)
        tracking.store_document(store, document_id, None, f'assembly: {_reason(err)}',
                                _timings(state, time.perf_counter() - started))
        return
    error = None if document.forms else pipeline.no_form_reason(document)
    tracking.store_document(store, document_id, document, error,
                            _timings(state, time.perf_counter() - started))
