"""Assembling a corpus: picking forms (seed or synthetic), laying them out, degrading
the pages, writing image-only PDFs and their truth files.

Randomness: every form gets its own SeedSequence([seed, form number]) split into
content / layout / degradation streams, so the same seed gives the same forms and the
same layout at every level (only the degradations differ), and the output bytes are
identical from run to run.

Kinds (generate(kinds=...)): 'project' (the default, 项目支出绩效自评表), 'department'
(部门整体支出绩效自评表, synthetic only) and 'other' (pages that are no form). The default
('project',) writes exactly what it always did. With any other kinds every form of the
truth carries its 'schema' first, and the truth has 'other_pages'. The kind of form
number n is drawn from its own stream (SeedSequence([seed, 1 << 22])); a project form n
is the same form, laid out and damaged the same way, as form n of a project-only run;
the non-form pages of PDF d come from SeedSequence([seed, 1 << 23, d])."""
import copy
import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np

from .contract import SCHEMA
from .degrade import degrade
from .layout import split_fields_of
from .others import render_other_page
from .pdfwrite import write_pdf
from .render import draw_page, layout_for
from .rules import find_issues
from .seeds import DEFAULT_SEEDS, load_seeds
from .synth import ISSUE_RATE, make_synthetic_form
from .synth_dept import make_department_form

SOURCES = ('seeds', 'synthetic', 'mixed')
KINDS = ('project', 'department', 'other')
FORM_KINDS = ('project', 'department')
DEFAULT_KINDS = ('project',)
# Non-form pages per PDF when 'other' is among the kinds, and the share of tables.
OTHER_PAGES_PER_PDF = (0, 1, 1, 2)
OTHER_TABLE_SHARE = 0.65


@dataclass
class FormSource:
    form: dict
    columns: int
    origin: str                 # 'seed:<index in the seed file>' or 'synthetic'
    notes: dict = field(default_factory=dict)
    kind: str = 'project'       # or 'department'


@dataclass
class OtherPage:
    """A rendered page that is no form ('table' or 'blank')."""
    kind: str
    image: object
    info: dict                  # image.info['scangen']
    record: dict                # what was drawn (others.render_other_page)


@dataclass
class RenderedForm:
    source: FormSource
    images: list                # degraded page images
    page_infos: list            # image.info['scangen'] of each page
    split_fields: list          # with page_offset
    style: object


def _form_streams(seed, number):
    content, layout, scan = np.random.SeedSequence([seed, number]).spawn(3)
    return (np.random.default_rng(content), np.random.default_rng(layout),
            np.random.default_rng(scan))


def pick_sources(seed, count, source, seed_forms, issue_rate=ISSUE_RATE):
    """FormSources for `count` forms. Seed forms are used in a shuffled order (cycling
    when more are asked for than parsed); 'mixed' takes about half from the seeds."""
    if source not in SOURCES:
        raise ValueError(f'source must be one of {SOURCES}')
    if source != 'synthetic' and not seed_forms:
        if source == 'seeds':
            raise ValueError('no seed forms could be parsed')
        source = 'synthetic'
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1 << 20]))
    order = list(rng.permutation(len(seed_forms))) if seed_forms else []
    picks, used = [], 0
    for number in range(count):
        content_rng = _form_streams(seed, number)[0]
        from_seed = source == 'seeds' or (source == 'mixed' and rng.random() < 0.5)
        if from_seed:
            seed_form = seed_forms[order[used % len(order)]]
            used += 1
            picks.append(FormSource(copy.deepcopy(seed_form.form), seed_form.columns,
                                    f'seed:{seed_form.index}', {'repairs': seed_form.repairs}))
        else:
            made = make_synthetic_form(content_rng, issue_rate=issue_rate)
            picks.append(FormSource(made.form, made.columns, 'synthetic',
                                    {'perturbations': made.perturbations}))
    return picks


def parse_kinds(kinds):
    """A tuple of kinds in KINDS order from 'project,department,other' or an iterable;
    at least one form kind must be among them."""
    names = kinds.split(',') if isinstance(kinds, str) else list(kinds)
    names = {n.strip() for n in names if n and n.strip()}
    unknown = names - set(KINDS)
    if unknown:
        raise ValueError(f'unknown kinds {sorted(unknown)}: use {", ".join(KINDS)}')
    if not names & set(FORM_KINDS):
        raise ValueError(f'kinds must include a form kind ({", ".join(FORM_KINDS)})')
    return tuple(k for k in KINDS if k in names)


def assign_kinds(seed, count, kinds, project_sources, issue_rate=ISSUE_RATE):
    """FormSources for a run with several kinds: form n gets its kind from a stream of
    its own; a project form is project_sources[n] as it is (its 'schema' put first), a
    department form is made from form n's content stream."""
    form_kinds = [k for k in kinds if k in FORM_KINDS]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1 << 22]))
    picks = []
    for number in range(count):
        kind = form_kinds[int(rng.integers(len(form_kinds)))] if len(form_kinds) > 1 else form_kinds[0]
        if kind == 'project':
            src = project_sources[number]
            form = {'schema': SCHEMA}
            form.update({k: v for k, v in src.form.items() if k != 'schema'})
            picks.append(FormSource(form, src.columns, src.origin, src.notes, 'project'))
        else:
            made = make_department_form(_form_streams(seed, number)[0], issue_rate=issue_rate)
            picks.append(FormSource(made.form, made.columns, 'synthetic',
                                    {'perturbations': made.perturbations}, 'department'))
    return picks


def render_other(seed, doc, index, kind, level, dpi, scan_dpi=None):
    """Draw and degrade non-form page `index` of PDF `doc`."""
    content, scan = np.random.SeedSequence([seed, 1 << 24, doc, index]).spawn(2)
    image, record = render_other_page(kind, np.random.default_rng(content), dpi)
    scan_rng = np.random.default_rng(scan)
    seal = kind == 'table' and scan_rng.random() < 0.3
    page = degrade(image, level, scan_rng, seal=seal, scan_dpi=scan_dpi)
    return OtherPage(kind, page, page.info['scangen'], record)


def plan_other_pages(seed, doc, n_forms):
    """[(slot, kind)]: non-form pages of PDF `doc`, each going before form `slot` of
    the PDF (slot n_forms: after the last form)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1 << 23, doc]))
    count = int(rng.choice(OTHER_PAGES_PER_PDF))
    plan = [(int(rng.integers(0, n_forms + 1)),
             'table' if rng.random() < OTHER_TABLE_SHARE else 'blank') for _ in range(count)]
    return sorted(plan, key=lambda p: p[0])


def render_source(src, number, seed, level, dpi, attachment, scan_dpi=None):
    """Lay out, draw and degrade one form."""
    _, layout_rng, scan_rng = _form_streams(seed, number)
    layout = layout_for(src.form, layout_rng, dpi=dpi, columns=src.columns, attachment=attachment)
    images, infos = [], []
    seal_name = src.form.get('implementing_unit') or src.form.get('department')
    for offset, page in enumerate(layout.pages):
        seal = scan_rng.random() < (0.7 if offset == 0 else 0.25)
        image = degrade(draw_page(page, layout.style), level, scan_rng, seal_name=seal_name, seal=seal,
                        scan_dpi=scan_dpi)
        images.append(image)
        infos.append(image.info['scangen'])
    return RenderedForm(src, images, infos, split_fields_of(src.form, layout), layout.style)


def _form_render_record(index, rendered, tagged=False):
    style = rendered.style
    record = {'form': index, 'origin': rendered.source.origin, 'columns': style.columns,
              'fonts': {'body': style.body_font.id, 'title': style.title_font.id},
              'font_px': round(style.font_px, 1), 'merged_levels': style.merge_levels,
              'narrow_budget_columns': bool(style.narrow_budget_digits),
              'attachment_header': style.attachment}
    if tagged:
        record['kind'] = rendered.source.kind
        if rendered.source.kind == 'department':
            record['funds_label'] = style.funds_label
            if style.attachment:
                record['attachment_text'] = style.attachment_text
    record.update({k: v for k, v in rendered.source.notes.items() if v})
    return record


def _page_record(page, info, dpi, continuation):
    return {'page': page, 'dpi': info.get('scan_dpi') or dpi, 'turned_deg': info.get('turned_deg', 0),
            'skew_deg': info['skew_deg'], 'continuation': continuation,
            'mode': info['mode'], 'jpeg_quality': info['jpeg_quality'],
            'degradations': info['degradations']}


def build_truth(pdf_name, pdf_bytes, rendered_forms, level, dpi, seed, tagged=False):
    """The truth document of one PDF. rendered_forms: RenderedForms and (when tagged)
    OtherPages in page order; tagged adds 'other_pages' and render.other_pages."""
    forms, split_fields, issues, pages, form_records = [], [], [], [], []
    other_pages, other_records = [], []
    page_number = 1
    index = -1
    for rendered in rendered_forms:
        if isinstance(rendered, OtherPage):
            other_pages.append({'page': page_number, 'kind': rendered.kind})
            other_records.append(dict({'page': page_number, 'kind': rendered.kind}, **rendered.record))
            record = _page_record(page_number, rendered.info, dpi, False)
            pages.append(dict({'page': record.pop('page'), 'form': None, 'other': rendered.kind},
                              **record))
            page_number += 1
            continue
        index += 1
        form = copy.deepcopy(rendered.source.form)
        form['pages'] = list(range(page_number, page_number + len(rendered.images)))
        forms.append(form)
        for entry in rendered.split_fields:
            split_fields.append({'form': index, 'field': entry['field'],
                                 'page': page_number + entry['page_offset'],
                                 'value': entry['value'], 'lines': entry['lines'],
                                 'digits_split': entry['digits_split']})
        issues += find_issues(form, index)
        for offset, info in enumerate(rendered.page_infos):
            record = _page_record(page_number + offset, info, dpi, offset > 0)
            pages.append(dict({'page': record.pop('page'), 'form': index}, **record))
        form_records.append(_form_render_record(index, rendered, tagged))
        page_number += len(rendered.images)
    body = sorted({r['fonts']['body'] for r in form_records})
    title = sorted({r['fonts']['title'] for r in form_records})
    truth = {
        'schema': SCHEMA,
        'source': {'file': pdf_name, 'sha256': hashlib.sha256(pdf_bytes).hexdigest(),
                   'pages': page_number - 1},
        'forms': forms,
    }
    if tagged:
        truth['other_pages'] = other_pages
    truth.update({
        'review': [],
        'split_fields': split_fields,
        'known_issues': issues,
        'render': {'generator': 'tests.scangen', 'seed': seed, 'level': level, 'dpi': dpi,
                   'fonts': {'body': body, 'title': title}, 'forms': form_records,
                   'pages': pages},
    })
    if tagged:
        truth['render']['other_pages'] = other_records
    return truth


def _page_images(item):
    if isinstance(item, OtherPage):
        return [(item.image, item.info)]
    return list(zip(item.images, item.page_infos))


def write_document(out_dir, name, rendered_forms, level, dpi, seed, tagged=False):
    pdf_path = os.path.join(out_dir, f'{name}.pdf')
    truth_path = os.path.join(out_dir, f'{name}.truth.json')
    pages = [(image, info.get('scan_dpi') or dpi, info['jpeg_quality'])
             for r in rendered_forms for image, info in _page_images(r)]
    data = write_pdf(pdf_path, pages)
    truth = build_truth(os.path.basename(pdf_path), data, rendered_forms, level, dpi, seed, tagged)
    with open(truth_path, 'w', encoding='utf-8') as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write('\n')
    return pdf_path, truth_path


def generate(out_dir, forms=30, level='mild', seed=0, per_pdf=4, source='mixed', dpi=200,
             seeds_path=None, progress=None, issue_rate=ISSUE_RATE, scan_dpi=None,
             kinds=DEFAULT_KINDS):
    """Write ceil(forms / per_pdf) image-only PDFs and their truth files into out_dir;
    returns [(pdf_path, truth_path)]. progress: optional callable(message); scan_dpi:
    resample every page to this resolution (the PDF page stays A4). kinds: any of
    'project', 'department', 'other' (a tuple or 'project,department,other'); forms of
    the listed form kinds are mixed by the seed, and 'other' adds non-form pages
    (0-2 a PDF) between them. `source` applies to the project forms."""
    if per_pdf < 1 or forms < 1:
        raise ValueError('forms and per_pdf must be at least 1')
    kinds = parse_kinds(kinds)
    tagged = kinds != DEFAULT_KINDS
    os.makedirs(out_dir, exist_ok=True)
    seed_forms = []
    if source != 'synthetic' and 'project' in kinds:
        path = seeds_path or DEFAULT_SEEDS
        if os.path.exists(path):
            seed_forms = load_seeds(path)[0]
    sources = pick_sources(seed, forms, source, seed_forms, issue_rate) if 'project' in kinds else None
    if tagged:
        sources = assign_kinds(seed, forms, kinds, sources, issue_rate)
    attach_rng = np.random.default_rng(np.random.SeedSequence([seed, 1 << 21]))
    written = []
    for doc, start in enumerate(range(0, forms, per_pdf)):
        rendered = []
        for number in range(start, min(forms, start + per_pdf)):
            attachment = attach_rng.random() < (0.75 if number == start else 0.1)
            rendered.append(render_source(sources[number], number, seed, level, dpi, attachment, scan_dpi))
        if 'other' in kinds:
            plan = plan_other_pages(seed, doc, len(rendered))
            for index, (slot, kind) in reversed(list(enumerate(plan))):
                rendered.insert(slot, render_other(seed, doc, index, kind, level, dpi, scan_dpi))
        name = f'scangen-{level}-s{seed}-{doc + 1:03d}' + (f'-{scan_dpi}dpi' if scan_dpi else '')
        written.append(write_document(out_dir, name, rendered, level, dpi, seed, tagged))
        if progress:
            n_forms = sum(isinstance(r, RenderedForm) for r in rendered)
            progress(f'{written[-1][0]}: {n_forms} forms, '
                     f'{sum(len(_page_images(r)) for r in rendered)} pages')
    return written
