"""The review app for a team and against the usual attacks, in a real browser (Debian's
Chromium through Playwright) and over real HTTP, against a real server and a store
filled by a real pipeline run: login throttling and unlocking, `next` after login,
logout on the server, batches assigned to reviewers, claims on open items, progress."""
from __future__ import annotations

import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from sqlalchemy import func, select, update

from review import throttle
from tests.review.conftest import PASSWORD
from tests.review.corpus import BATCH
from tests.review.helpers import form_id_of, open_flags, shot
from store.models import (AuditEvent, Batch, Document, FieldRow, FlagRow, FormRow, LoginSession, PageRow,
                                  WorkRecord, utcnow)

EVIL = 'evil.example'


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(url: str, cookie: str = '', data: dict | None = None):
    """(status, Location header, body) of one request, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={'Cookie': cookie} if cookie else {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get('Location'), response.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get('Location'), err.read().decode('utf-8', 'replace')


def cookie_of(page) -> str:
    return '; '.join(f"{c['name']}={c['value']}" for c in page.context.cookies())


def login_form(browser, site):
    """A fresh context on the login page: (context, page, cookie, CSRF token)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + '/login')
    token = page.get_attribute('input[name=csrf_token]', 'value')
    return context, page, cookie_of(page), token


def count_events(store, event, name=None) -> int:
    with store.session() as s:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.event == event)
        if name is not None:
            query = query.where(AuditEvent.name == name)
        return s.scalar(query)


def log_in_page(page, site, name, password=PASSWORD):
    page.fill('input[name=name]', name)
    page.fill('input[name=password]', password)
    with page.expect_navigation():
        page.click('button[type=submit]')


# ------------------------------------------------------------------ logins

def test_a_thousand_wrong_passwords_lock_the_account_until_a_senior_unlocks_it(site, browser, login):
    store = site.store
    context, page, cookie, token = login_form(browser, site)
    try:
        statuses, lock = [], threading.Lock()

        def guess(start: int):
            for i in range(start, 1000, 8):
                status, _, body = http(site.url + '/login', cookie,
                                       {'csrf_token': token, 'name': 'ana', 'password': f'guess number {i}'})
                with lock:
                    statuses.append((status, 'locked' in body))

        started = time.monotonic()
        threads = [threading.Thread(target=guess, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        assert elapsed < 60 and len(statuses) == 1000
        assert all(status == 401 for status, _ in statuses)
        # At most 10 guesses reached the password check; the rest were refused unread.
        assert count_events(store, 'login.failure', 'ana') == throttle.ACCOUNT_LIMIT
        assert count_events(store, 'login.refused', 'ana') == 1000 - throttle.ACCOUNT_LIMIT
        assert sum(1 for _, locked in statuses if locked) >= 1000 - throttle.ACCOUNT_LIMIT

        # The right password is refused too while the account is locked ...
        page.fill('input[name=name]', 'ana')
        page.fill('input[name=password]', PASSWORD)
        page.click('button[type=submit]')
        assert 'locked' in page.inner_text('main')
        # ... and an unknown name answers the same way after as many failures.
        for i in range(throttle.ACCOUNT_LIMIT + 1):
            status, _, body = http(site.url + '/login', cookie,
                                   {'csrf_token': token, 'name': 'nobody', 'password': f'x{i}xxxxxxxx'})
        assert status == 401 and 'locked' in body

        # A reviewer cannot unlock; a senior can, on the Users page.
        ben = login('ben')
        assert ben.goto(site.url + '/admin/users').status == 404
        sen = login('sen')
        sen.goto(site.url + '/admin/users')
        row = sen.locator('#people tr[data-user="ana"]')
        assert 'locked' in row.inner_text()
        with sen.expect_navigation():
            row.locator('button.unlock').click()
        assert 'ana: unlocked' in sen.inner_text('#flashes')

        log_in_page(page, site, 'ana')
        assert page.url == site.url + '/'
        assert count_events(store, 'login.success', 'ana') == 1
        assert count_events(store, 'account.unlock') == 1
        adm = login('adm')
        adm.goto(site.url + '/admin/audit')
        audit = adm.inner_text('#audit')
        assert 'login.refused' in audit and 'account.unlock' in audit and 'unlocked ana' in audit
    finally:
        context.close()


def test_every_next_variant_lands_on_a_same_site_page(site, browser):
    variants = ['//' + EVIL + '/', '/\\' + EVIL + '/', '/%09/' + EVIL + '/', '/%0a/' + EVIL + '/',
                '/%0d/' + EVIL + '/', 'https://' + EVIL + '/', '%2F%2F' + EVIL, '///' + EVIL,
                '/%5C' + EVIL, 'javascript:alert(1)', '/%2F' + EVIL, '/exports']
    context = browser.new_context()
    try:
        page = context.new_page()
        for variant in variants:
            # Over HTTP: the answer to the login is a redirect to a path on this site.
            login_page = page.goto(f'{site.url}/login?next={variant}')
            assert login_page.status == 200, variant
            token = page.get_attribute('input[name=csrf_token]', 'value')
            status, location, _ = http(f'{site.url}/login?next={variant}', cookie_of(page),
                                       {'csrf_token': token, 'name': 'ana', 'password': PASSWORD})
            assert status == 302, variant
            assert location.startswith('/') and not location.startswith(('//', '/\\')), (variant, location)
            assert not re.search(r'[\x00-\x20\\]', location), (variant, location)
            # In the browser: where it really ends up.
            page.fill('input[name=name]', 'ana')
            page.fill('input[name=password]', PASSWORD)
            with page.expect_navigation() as navigation:
                page.click('button[type=submit]')
            assert navigation.value.status < 500, variant
            assert page.url.startswith(site.url + '/'), (variant, page.url)
            assert EVIL not in urllib.parse.urlsplit(page.url).netloc
            if variant == '/exports':
                assert page.url == site.url + '/exports'
            with page.expect_navigation():
                page.click('header button:has-text("Log out")')
    finally:
        context.close()


def test_logout_ends_the_session_on_the_server_and_idle_sessions_expire(site, login, browser):
    store = site.store
    ana = login('ana')
    saved = ana.context.cookies()
    assert http(site.url + '/', cookie_of(ana))[0] == 200
    with ana.expect_navigation():
        ana.click('header button:has-text("Log out")')
    assert '/login' in ana.url
    # The cookie saved before the logout opens nothing now.
    status, location, _ = http(site.url + '/', '; '.join(f"{c['name']}={c['value']}" for c in saved))
    assert status == 302 and location.startswith('/login')
    replay = browser.new_context()
    try:
        replay.add_cookies(saved)
        page = replay.new_page()
        page.goto(site.url + '/exports')
        assert '/login' in page.url
    finally:
        replay.close()
    assert count_events(store, 'logout') == 1

    # A new login is a new session id; one left idle past the limit ends.
    ben = login('ben')
    again = login('ben')
    with store.session() as s:
        tokens = s.scalars(select(LoginSession.token_hash).join(LoginSession.user)
                           .where(LoginSession.revoked_at.is_(None))).all()
    assert len(tokens) == len(set(tokens)) == 2
    assert http(site.url + '/', cookie_of(ben))[0] == 200
    with store.session(write=True) as s:
        s.execute(update(LoginSession).values(last_seen=utcnow() - timedelta(hours=1)))
    status, location, _ = http(site.url + '/', cookie_of(again))
    assert status == 302 and location.startswith('/login')


# ------------------------------------------------------------------ batches and claims

def _anything_of_the_batch(store, document_id):
    form_id = form_id_of(store, document_id)
    with store.session() as s:
        field = next(f for f in s.scalars(select(FieldRow).where(FieldRow.form_id == form_id,
                                                                 FieldRow.page.is_not(None)))
                     if f.bbox and len(f.bbox) == 4 and f.bbox[2] > f.bbox[0] and f.bbox[3] > f.bbox[1])
        flag = s.scalar(select(FlagRow).where(FlagRow.document_id == document_id))
        page = s.scalar(select(PageRow).where(PageRow.document_id == document_id))
        batch_id = s.scalar(select(Batch.id).where(Batch.name == BATCH))
    return [f'/forms/{form_id}', f'/forms/{form_id}/fields/{field.path}', f'/pages/{page.id}/image',
            f'/fields/{field.id}/crop', f'/flags/{flag.id}/crop', f'/documents/{document_id}/export/csv',
            f'/documents/{document_id}/export/xlsx', f'/batches/{batch_id}/export/json',
            f'/batches/{batch_id}/export/xlsx', f'/?form={form_id}']


def test_a_reviewer_sees_only_the_batches_assigned_to_them(site, login):
    store = site.store
    urls = _anything_of_the_batch(store, site.document_ids[0])
    cy = login('cy')
    assert 'Nothing to review' in cy.inner_text('main')
    assert cy.locator('#queue-total').inner_text() == '0'
    for url in urls[:-1]:
        status, _, body = http(site.url + url, cookie_of(cy))
        assert status == 404, url
    status, _, body = http(site.url + urls[-1], cookie_of(cy))
    assert status == 200 and 'id="queue"' not in body
    cy.goto(site.url + '/exports')
    assert BATCH not in cy.inner_text('main')
    assert http(site.url + '/admin/progress', cookie_of(cy))[0] == 404
    # A field someone else's batch holds cannot be changed either.
    token = cy.get_attribute('header input[name=csrf_token]', 'value')
    status, _, _ = http(site.url + urls[1], cookie_of(cy), {'csrf_token': token, 'action': 'accept'})
    assert status == 404

    # The admin assigns the batch on the Users page: now cy sees it.
    adm = login('adm')
    adm.goto(site.url + '/admin/users')
    row = adm.locator('#people tr[data-user="cy"]')
    row.locator('form.assign select').select_option(label=BATCH)
    with adm.expect_navigation():
        row.locator('form.assign button').click()
    assert f'{BATCH} assigned to cy' in adm.inner_text('#flashes')
    for url in urls:
        assert http(site.url + url, cookie_of(cy))[0] == 200, url
    # The admin adds a reviewer and makes cy a senior, from the same page.
    adm.fill('#add-user input[name=name]', 'dee')
    adm.fill('#add-user input[name=password]', 'a long passphrase')
    with adm.expect_navigation():
        adm.click('#add-user button[type=submit]')
    assert 'dee added (reviewer)' in adm.inner_text('#flashes')
    adm.locator('#people tr[data-user="cy"] select[name=role]').select_option('senior')
    with adm.expect_navigation():
        adm.locator('#people tr[data-user="cy"] form:has(select[name=role]) button').click()
    assert 'cy is senior now' in adm.inner_text('#flashes')
    assert http(site.url + '/admin/progress', cookie_of(cy))[0] == 200
    # A senior may unlock but not manage users.
    assert http(site.url + '/admin/audit', cookie_of(cy))[0] == 404
    cy.goto(site.url + '/')
    assert int(cy.inner_text('#queue-total')) == len({(f.form_id, f.field) for f in open_flags(store)})


def test_two_reviewers_on_one_batch_never_get_the_same_open_item(site, login):
    store = site.store
    ana, ben = login('ana'), login('ben')
    seen = []
    # Both ask for the first item of their queue at the same moment, ten times over.
    for _ in range(10):
        barrier, got = threading.Barrier(2), {}

        def first(name, cookie):
            barrier.wait()
            got[name] = http(site.url + '/item?pos=0', cookie)[1]
        threads = [threading.Thread(target=first, args=(n, cookie_of(p))) for n, p in (('ana', ana), ('ben', ben))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a, b = (urllib.parse.urlsplit(got[n]).path for n in ('ana', 'ben'))
        assert a.startswith('/forms/') and b.startswith('/forms/') and a != b
        seen.append((a, b))

    # In the browser: ana opens her next item; it is not in ben's queue while she has it.
    ana.goto(site.url + '/item?pos=0')
    mine = urllib.parse.urlsplit(ana.url).path
    ben.goto(site.url + '/')
    hrefs = ben.eval_on_selector_all('#queue tbody tr', 'rows => rows.map(r => r.dataset.href)')
    assert not any(urllib.parse.urlsplit(h).path == mine for h in hrefs)
    assert int(ben.inner_text('#queue-total')) == len({(f.form_id, f.field) for f in open_flags(store)}) - 1
    ben.goto(site.url + '/item?pos=0')
    assert urllib.parse.urlsplit(ben.url).path != mine
    # ben opening it by hand is told who has it, and his action is refused.
    ben.goto(site.url + mine)
    assert 'ana has this field open' in ben.inner_text('#held')
    ben.keyboard.press('Escape')
    with ben.expect_navigation():
        ben.keyboard.press('a')
    assert 'ana has this field open' in ben.inner_text('#flashes')

    # ana acts on hers: the time is logged and the senior's progress page counts it.
    ana.keyboard.press('Escape')
    with ana.expect_navigation():
        ana.keyboard.press('a')
    with store.session() as s:
        (work,) = s.scalars(select(WorkRecord)).all()
        assert work.user_id is not None and work.started_at is not None and work.finished_at >= work.started_at
    sen = login('sen')
    sen.goto(site.url + '/admin/progress')
    sen.wait_for_load_state('networkidle')
    shot(sen, 'progress')
    assert sen.inner_text('#reviewer-progress tr[data-user="ana"] td.done') == '1'
    batch_row = sen.locator(f'#batch-progress tr[data-batch="{BATCH}"]')
    assert batch_row.locator('td.done').inner_text() == '1'
    # The same count of open items in the progress page and in the senior's queue.
    with store.session() as s:
        batch_id = s.scalar(select(Batch.id).where(Batch.name == BATCH))
    sen.goto(site.url + f'/?batch={batch_id}')
    queue_total = int(sen.inner_text('#queue-total'))
    sen.goto(site.url + '/admin/progress')
    claimed = int(batch_row.locator('td:last-child').inner_text())
    assert int(batch_row.locator('td.open-items').inner_text()) == queue_total + claimed
    assert int(batch_row.locator('td.open-flags').inner_text()) == len(open_flags(store))


# ------------------------------------------------------------------ editing comfort

def test_long_text_gets_a_multi_line_editor_and_a_legible_crop(site, login):
    store = site.store
    with store.session() as s:
        form_id, path = s.execute(select(FieldRow.form_id, FieldRow.path).where(
            FieldRow.path == 'goals.actual', FieldRow.bbox.is_not(None))).first()
    ana = login('ana')
    ana.goto(site.url + f'/forms/{form_id}/fields/{path}')
    assert ana.evaluate("document.getElementById('value').tagName") == 'TEXTAREA'
    ana.wait_for_load_state('networkidle')
    natural, shown = ana.eval_on_selector('#crop', 'img => [img.naturalHeight, img.getBoundingClientRect().height]')
    assert shown >= 0.74 * natural and natural > 0
    # Shift+Enter is a new line, Enter saves.
    ana.keyboard.press('Control+End')
    ana.keyboard.type(' 补')
    with ana.expect_navigation():
        ana.keyboard.press('Enter')
    with store.session() as s:
        value = s.scalar(select(FieldRow.value).where(FieldRow.form_id == form_id, FieldRow.path == path))
    assert value.endswith(' 补')


def test_candidate_readings_are_picked_with_one_key(site, login):
    store = site.store
    with store.session() as s:
        rows = s.execute(select(FormRow.id, FormRow.form_index, FormRow.document_id)).all()
        documents = {r.document_id for r in rows}
        from store.models import Document
        results = {d: s.get(Document, d).result for d in documents}
    found = None
    for form_id, index, document_id in rows:
        sources = results[document_id]['forms'][index].get('sources') or {}
        for path, source in sources.items():
            if len(source.get('lines') or []) > 1 and not path.startswith('funds.'):
                found = (form_id, path, source['lines'])
                break
        if found:
            break
    assert found, 'the corpus has no cell read on several lines'
    form_id, path, lines = found
    ana = login('ana')
    ana.goto(site.url + f'/forms/{form_id}/fields/{path}')
    values = ana.eval_on_selector_all('button.candidate', 'bs => bs.map(b => b.dataset.value)')
    assert ''.join(lines).strip() in values or ' '.join(lines).strip() in values
    ana.keyboard.press('Alt+2')
    assert ana.input_value('#value') == values[1]


# ------------------------------------------------------------------ what the browser gets

def test_page_grades_show_where_the_result_has_them(site, login):
    store = site.store
    graded, plain = site.document_ids[0], site.document_ids[1]
    with store.session(write=True) as s:
        row = s.get(Document, graded)
        result = dict(row.result)
        result['quality'] = [{'page': 1, 'grade': 'rough', 'contrast': 0.3, 'stroke_mm': 0.2,
                              'rule_continuity': 0.7, 'speckle_per_cm2': 2.5, 'reasons': ['speckle']}]
        row.result = result
        plain_row = s.get(Document, plain)
        result = dict(plain_row.result)
        result.pop('quality', None)              # a result from before page grades
        plain_row.result = result
    ana = login('ana')
    ana.goto(site.url + f'/forms/{form_id_of(store, graded)}')
    assert ana.inner_text('#grade-1') == 'rough'
    assert 'speckle' in ana.inner_text('#page-view')
    response = ana.goto(site.url + f'/forms/{form_id_of(store, plain)}')
    assert response.status == 200 and ana.locator('.grade').count() == 0


def test_no_server_path_reaches_the_browser(site, login):
    store = site.store
    form_id = form_id_of(store, site.document_ids[0])
    with store.session() as s:
        flag = s.scalar(select(FlagRow).where(FlagRow.form_id == form_id))
        document_paths = [d.path for d in s.scalars(select(Document))]
    sen = login('sen')
    cookie = cookie_of(sen)
    urls = ['/', f'/forms/{form_id}', f'/forms/{form_id}/fields/{flag.field}', '/exports', '/admin/users',
            '/admin/progress', f'/documents/{site.document_ids[0]}/export/json',
            f'/documents/{site.document_ids[0]}/export/csv', '/forms/999999', '/no/such/page']
    secrets = [site.data_dir, os.path.dirname(site.data_dir)] + [os.path.dirname(p) for p in document_paths]
    for url in urls:
        status, _, body = http(site.url + url, cookie)
        assert status in (200, 404), url
        for secret in secrets:
            assert secret not in body, (url, secret)


def test_the_counts_agree_between_progress_queue_and_exports(site, login):
    import io
    import json
    import zipfile
    store = site.store
    sen = login('sen')
    with store.session() as s:
        batch_id = s.scalar(select(Batch.id).where(Batch.name == BATCH))
    sen.goto(site.url + f'/?batch={batch_id}')
    in_queue = int(sen.inner_text('#queue-total'))
    sen.goto(site.url + '/admin/progress')
    progress = sen.locator(f'#batch-progress tr[data-batch="{BATCH}"]')
    items, flags = (int(progress.locator(f'td.{c}').inner_text()) for c in ('open-items', 'open-flags'))
    sen.goto(site.url + '/exports')
    row = sen.locator(f'#exports tr[data-batch="{BATCH}"]')
    assert int(row.locator('td.open-items').inner_text()) == items == in_queue
    assert int(row.locator('td.open-flags').inner_text()) == flags
    with sen.expect_download() as info:
        sen.click(f'#export-{batch_id}-json')
    with zipfile.ZipFile(io.BytesIO(open(info.value.path(), 'rb').read())) as archive:
        documents = [json.loads(archive.read(n)) for n in archive.namelist() if n.endswith('.json')]
    listed = [(d['source']['sha256'], f['form'], f['field'], f['reason'], f['detail'])
              for d in documents if 'source' in d for f in d.get('review', [])]
    assert len(listed) == flags
    assert len({(sha, form, path) for sha, form, path, _, _ in listed}) == items
