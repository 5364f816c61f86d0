"""A real pipeline run on generated scans, stored the way the workers store it.

`extract_corpus` generates scans (tests.scangen), runs extractor.pipeline on each in
this process and keeps the documents, page results and cleaned page PNGs;
`populate(url, corpus)` puts them in a store through the workers' own bookkeeping
(store.tracking: register, pages, page results with their image, assembled
document), so the app reads exactly what a batch through the workers leaves.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

BATCH = 'seed3'


@dataclass
class ScannedDocument:
    pdf: str
    sha256: str
    size: int
    document: object                       # models.Document
    pages: list = field(default_factory=list)   # (number, result json, png path, width, height, dpi)


def extract_corpus(out_dir: str, data_dir: str, seed: int = 3, forms: int = 3,
                   issue_rate: float = 0.3, per_pdf: int = 1) -> list[ScannedDocument]:
    """Seed 3 with 30% of forms printed with inconsistencies (named, not the
    generator's default, so a change of that default does not change this corpus) gives
    a split budget inside a failing execution-rate rule and weight and score sums that
    do not add up: the tests look for these in the stored flags. per_pdf > 1 puts that
    many forms in one document (tests of how pages are grouped into forms)."""
    import cv2

    from extractor import pipeline
    from tests.scangen import generate
    scans = generate(os.path.join(out_dir, 'scans'), forms=forms, level='clean', seed=seed,
                     per_pdf=per_pdf, source='synthetic', issue_rate=issue_rate)
    corpus = []
    for pdf, _truth in scans:
        sha = pipeline.sha256_of(pdf)
        pages = []

        def on_page(page, result, artifacts, sha=sha, pages=pages):
            folder = os.path.join(data_dir, 'pages', sha[:2], sha)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f'page-{result.number:04d}.png')
            cv2.imwrite(path, artifacts.gray)
            height, width = artifacts.gray.shape[:2]
            pages.append((result.number, result.model_dump(mode='json'), path, width, height, page.dpi))
        document, _results = pipeline.extract_file(pdf, on_page=on_page)
        corpus.append(ScannedDocument(pdf, sha, os.path.getsize(pdf), document, pages))
    return corpus


def populate(url: str, corpus: list[ScannedDocument], batch: str = BATCH):
    from store import tracking
    from store.db import open_store
    store = open_store(url)
    files = [tracking.SubmittedFile(d.pdf, d.sha256, d.size) for d in corpus]
    ids = tracking.register(store, batch, files).to_queue
    for document_id, scanned in zip(ids, corpus):
        tracking.set_pages(store, document_id, len(scanned.pages))
        for number, result, path, width, height, dpi in scanned.pages:
            tracking.claim_page(store, document_id, number, 'test', 3)
            tracking.finish_page(store, document_id, number, result, path, width, height, dpi, 0.5)
        assert tracking.store_document(store, document_id, scanned.document.model_copy(deep=True),
                                       None, {'at': time.time()})
    return store, ids
