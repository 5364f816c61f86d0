"""The pipeline: composes the stages; the CLI and the Celery tasks call only this.

    process_page(page)            ingest.Page -> PageResult   (preprocess, grid, ocr)
    assemble(source, results)     PageResults -> Document     (layout, validate)
    extract_file(path)            both, for one file in this process
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

from extractor import grid as grid_stage
from extractor import ingest, layout, ocr, preprocess, validate
from models import Document, Page, PageResult, Source, UnmatchedPage


@dataclass
class PageArtifacts:
    """What a page leaves behind besides its result: the cleaned image (for review
    crops and debug overlays)."""
    gray: object = None


def line_scorer(recognizer: ocr.Recognizer) -> preprocess.LineScorer:
    """The recogniser's confidence on line crops (its fast model where it has one), faint
    crops stretched as the OCR stage stretches them for reading: how preprocess tells an
    upside-down page without a model of its own."""
    fast = getattr(recognizer, 'fast', recognizer)
    return lambda crops: [reading.confidence for reading in
                          fast.recognize([ocr.stretch_contrast(crop) for crop in crops])]


def process_page(page: Page, recognizer: Optional[ocr.Recognizer] = None,
                 artifacts: Optional[PageArtifacts] = None) -> PageResult:
    recognizer = recognizer or ocr.default_recognizer()
    timings = {}
    t = time.perf_counter()
    clean = preprocess.clean_page(page, line_scorer(recognizer), ocr.page_turn_model())
    timings['preprocess'] = time.perf_counter() - t
    t = time.perf_counter()
    grid = grid_stage.find_tables(clean)
    timings['grid'] = time.perf_counter() - t
    t = time.perf_counter()
    cells, loose = ocr.read_page(clean, grid, recognizer)
    timings['ocr'] = time.perf_counter() - t
    if artifacts is not None:
        artifacts.gray = clean.gray
    notes = list(clean.notes)
    if not grid.tables:
        notes.append('no ruled table found on this page')
    measures = dict(clean.measures, skew_deg=round(clean.angle, 3),
                    rule_continuity=grid_stage.rule_continuity(grid))
    return PageResult(number=page.number, dpi=clean.dpi, angle=round(clean.angle, 3), grid=grid,
                      cells=cells, loose_text=loose, notes=notes, measures=measures,
                      timings={k: round(v, 4) for k, v in timings.items()})


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def assemble(source: Source, results: list[PageResult]) -> Document:
    forms, structure_flags, unmatched = layout.read_forms(results)
    quality = [validate.grade_page(result) for result in results]
    flags = validate.settle_confirmed_numbers(
        forms, validate.settle_whole_form_doubt(forms, structure_flags) + validate.check_forms(forms))
    flags += validate.check_pages(forms, quality, flags)
    flags.sort(key=lambda f: (f.form, f.field, f.reason))
    return Document(source=source, forms=forms, review=flags, quality=quality,
                    unmatched_pages=[UnmatchedPage(page=u.page, reason=u.reason) for u in unmatched])


def no_form_reason(doc: Document) -> str:
    """Why a document gave no form: its pages' reasons (not a known form, blank …),
    each reason once."""
    reasons = sorted({u.reason for u in doc.unmatched_pages})
    if not reasons:
        return 'no form found'
    if len(reasons) == 1:
        return reasons[0]
    return '; '.join(f'page {u.page}: {u.reason}' for u in doc.unmatched_pages)


def extract_file(path: str, dpi: int = 200, recognizer: Optional[ocr.Recognizer] = None,
                 on_page: Optional[Callable] = None) -> tuple[Document, list[PageResult]]:
    """Run every stage on one file. `on_page(page, result, artifacts)` is called after
    each page (progress bars, debug output). Raises ingest.IngestError if unreadable."""
    n_pages = ingest.count_pages(path)
    results = []
    for page in ingest.iter_pages(path, dpi):
        artifacts = PageArtifacts()
        result = process_page(page, recognizer, artifacts)
        results.append(result)
        if on_page:
            on_page(page, result, artifacts)
    source = Source(file=os.path.basename(path), sha256=sha256_of(path), pages=n_pages)
    return assemble(source, results), results
