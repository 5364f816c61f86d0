"""How pages are grouped into forms, repaired in the browser (Debian's Chromium through
Playwright): a form's second page that was grouped with the next form is moved back,
a page is marked as not a form and added again; the forms are read again from their
pages, re-validated, the repair recorded, and the exports are the pipeline's reading
of the right grouping (with the corrections people made before)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import Document
from review.actions import act
from review.regroup import read_forms
from store.models import (AuditEvent, Correction, Document as DocumentRow, FieldRow, FormRow, RowEdit,
                          User)
from store.results import replace_results
from tests.review.conftest import serve_site
from tests.review.corpus import extract_corpus
from tests.review.helpers import shot


@pytest.fixture(scope='session')
def paged_corpus(tmp_path_factory):
    """One scanned document of two forms, the first on two pages (seed 5)."""
    root = tmp_path_factory.mktemp('review-paged')
    data_dir = root / 'var'
    corpus = extract_corpus(str(root), str(data_dir), seed=5, forms=2, per_pdf=2)
    assert len(corpus) == 1
    forms = corpus[0].document.forms
    assert len(forms) == 2 and len(forms[0].pages) == 2, [f.pages for f in forms]
    return corpus, str(data_dir)


@pytest.fixture
def site(paged_corpus, tmp_path):
    corpus, data_dir = paged_corpus
    with serve_site(corpus, data_dir, tmp_path) as served:
        yield served


def misgroup(site, corpus) -> tuple[list[list[int]], dict]:
    """Store the document as a batch run that grouped the first form's second page with
    the next form would have; (that grouping, the pipeline's right export)."""
    scanned = corpus[0]
    right = scanned.document
    from models import PageResult
    results = {n: PageResult.model_validate(r) for n, r, *_ in scanned.pages}
    first, second = right.forms[0].pages, right.forms[1].pages
    wrong = [first[:1], first[1:] + second]
    forms, flags = read_forms(results, wrong, right.quality)
    document = Document(source=right.source, forms=forms, review=flags, quality=right.quality)
    with site.store.session(write=True) as s:
        replace_results(s, s.get(DocumentRow, site.document_ids[0]), document)
    return wrong, json.loads(json.dumps(right.contract()))


def forms_of(store, document_id):
    with store.session() as s:
        return [(f.id, f.form_index, list(f.pages)) for f in s.scalars(
            select(FormRow).where(FormRow.document_id == document_id).order_by(FormRow.form_index))]


def download_json(page, selector) -> dict:
    with page.expect_download() as info:
        page.click(selector)
    with open(info.value.path(), encoding='utf-8') as fh:
        return json.load(fh)


def test_a_misgrouped_page_is_moved_to_its_form(site, login, paged_corpus):
    corpus, _ = paged_corpus
    store = site.store
    wrong, right = misgroup(site, corpus)
    moved = wrong[1][0]                       # the first form's second page
    (first_id, _, _), (second_id, _, pages) = forms_of(store, site.document_ids[0])
    assert pages == wrong[1]
    # Before the repair a senior corrected a cell of the second form (its own first page).
    with store.session(write=True) as s:
        cell = s.scalars(select(FieldRow).where(FieldRow.form_id == second_id, FieldRow.page == wrong[1][1],
                                                FieldRow.bbox.is_not(None), FieldRow.value.is_not(None))
                         .order_by(FieldRow.position)).first()
        where = (cell.page, list(cell.bbox))
        sen = s.scalar(select(User).where(User.name == 'sen'))
        act(s, sen, s.get(FormRow, second_id), cell.path, 'correct', cell.value + '（更正）')
        corrected = cell.value
        assert corrected.endswith('（更正）')

    ana = login('ana')
    ana.goto(site.url + f'/forms/{second_id}')
    assert f'pages {", ".join(map(str, wrong[1]))}' in ana.inner_text('.where')
    ana.select_option(f'#move-page-{moved} select[name=to]', str(first_id))
    ana.wait_for_load_state('networkidle')
    shot(ana, 'page-move')
    with ana.expect_navigation():
        ana.click(f'#move-page-{moved} button[type=submit]')
    assert f'page {moved} moved to form 0' in ana.inner_text('#flashes')

    # The two forms are read again from their pages: the pipeline's right grouping.
    assert [p for _, _, p in forms_of(store, site.document_ids[0])] == [f['pages'] for f in right['forms']]
    with store.session() as s:
        field = next(f for f in s.scalars(select(FieldRow).where(FieldRow.form_id == second_id,
                                                                 FieldRow.page == where[0]))
                     if f.bbox == where[1])
        # The corrected cell kept its correction through the new reading of its form.
        assert field.value == corrected
        assert [c.user.name for c in s.scalars(select(Correction).where(Correction.field_id == field.id))] == ['sen']
        path = field.path
        edits = s.scalars(select(RowEdit).where(RowEdit.block == 'pages')).all()
        assert {(e.form_id, e.action, e.row_index, e.user.name) for e in edits} == {
            (first_id, 'move', moved, 'ana'), (second_id, 'move', moved, 'ana')}
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.event == 'page.move')).endswith(
            f'page {moved}: from form 1 to form 0')
    ana.goto(site.url + f'/forms/{second_id}')
    assert ana.inner_text(f'#form-table td[data-path="{path}"]').strip() == corrected
    ana.goto(site.url + f'/forms/{first_id}')
    assert f'move page {moved}' in ana.inner_text('#row-edits')

    exported = download_json(ana, '#doc-export-json')
    expected = json.loads(json.dumps(right['forms']))
    node = expected[1]
    *parents, leaf = path.split('.')
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[leaf] = corrected
    assert exported['forms'] == expected
    # Re-validated: the flags are the pipeline's on the right grouping (less what the
    # correction settled).
    want = {(f['form'], f['field'], f['reason'], f['detail']) for f in right['review']}
    got = {(f['form'], f['field'], f['reason'], f['detail']) for f in exported['review']}
    assert got <= want and len(want - got) <= 3, (want - got, got - want)


def test_a_page_marked_not_a_form_and_added_back(site, login, paged_corpus):
    store = site.store
    right = json.loads(json.dumps(paged_corpus[0][0].document.contract()))
    (first_id, _, first_pages), (second_id, _, _) = forms_of(store, site.document_ids[0])
    page = first_pages[-1]
    ben = login('ben')
    ben.goto(site.url + f'/forms/{first_id}')
    ben.select_option(f'#move-page-{page} select[name=to]', 'none')
    with ben.expect_navigation():
        ben.click(f'#move-page-{page} button[type=submit]')
    assert f'page {page} marked as not a form' in ben.inner_text('#flashes')
    assert forms_of(store, site.document_ids[0])[0][2] == first_pages[:-1]
    exported = download_json(ben, '#doc-export-json')
    assert [u['page'] for u in exported['unmatched_pages']] == [page]
    assert 'ben' in exported['unmatched_pages'][0]['reason']
    assert len(exported['forms'][0]['indicators']) < len(right['forms'][0]['indicators'])
    assert exported['forms'][1] == right['forms'][1]                 # the other form untouched
    with store.session() as s:
        (edit,) = s.scalars(select(RowEdit).where(RowEdit.block == 'pages')).all()
        assert (edit.action, edit.row_index, edit.user.name) == ('notform', page, 'ben')

    # The page is listed as in no form, and goes back with one click.
    assert f'page {page}' in ben.inner_text('#loose-pages')
    with ben.expect_navigation():
        ben.click(f'#add-page-{page} button[type=submit]')
    assert f'page {page} moved to form 0' in ben.inner_text('#flashes')
    assert ben.locator('#loose-pages').count() == 0
    exported = download_json(ben, '#doc-export-json')
    assert exported['forms'] == right['forms'] and exported['unmatched_pages'] == []


def test_a_page_cannot_go_to_a_form_of_another_document(site, login, paged_corpus):
    """The target form must be of the same document; no page move for a form the user
    may not see."""
    store = site.store
    (first_id, _, pages), _ = forms_of(store, site.document_ids[0])
    cy = login('cy')                                  # no batch assigned
    token = cy.get_attribute('input[name=csrf_token]', 'value')
    response = cy.request.post(site.url + f'/forms/{first_id}/pages',
                               form={'csrf_token': token, 'page': str(pages[0]), 'to': 'none'})
    assert response.status == 404
    ana = login('ana')
    ana.goto(site.url + f'/forms/{first_id}')
    token = ana.get_attribute('input[name=csrf_token]', 'value')
    response = ana.request.post(site.url + f'/forms/{first_id}/pages',
                                form={'csrf_token': token, 'page': str(pages[0]), 'to': '999999'})
    assert response.status == 404
    assert forms_of(store, site.document_ids[0])[0][2] == pages
