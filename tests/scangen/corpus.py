"""Assembling a corpus: picking forms (seed or synthetic), laying them out, degrading
the pages, writing image-only PDFs and their truth files.

Randomness: every form gets its own SeedSequence([seed, form number]) split into
content / layout / degradation streams, so the same seed gives the same forms and the
same layout at every level (only the degradations differ), and the output bytes are
identical from run to run."""
import copy
import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np

from .contract import SCHEMA
from .degrade import degrade
from .layout import split_fields_of
from .pdfwrite import write_pdf
from .render import draw_page, layout_for
from .rules import find_issues
from .seeds import DEFAULT_SEEDS, load_seeds
from .synth import ISSUE_RATE, make_synthetic_form

SOURCES = ('seeds', 'synthetic', 'mixed')


@dataclass
class FormSource:
    form: dict
    columns: int
    origin: str                 # 'seed:<index in the seed file>' or 'synthetic'
    notes: dict = field(default_factory=dict)


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


def _form_render_record(index, rendered):
    style = rendered.style
    record = {'form': index, 'origin': rendered.source.origin, 'columns': style.columns,
              'fonts': {'body': style.body_font.id, 'title': style.title_font.id},
              'font_px': round(style.font_px, 1), 'merged_levels': style.merge_levels,
              'narrow_budget_columns': bool(style.narrow_budget_digits),
              'attachment_header': style.attachment}
    record.update({k: v for k, v in rendered.source.notes.items() if v})
    return record


def build_truth(pdf_name, pdf_bytes, rendered_forms, level, dpi, seed):
    forms, split_fields, issues, pages, form_records = [], [], [], [], []
    page_number = 1
    for index, rendered in enumerate(rendered_forms):
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
            pages.append({'page': page_number + offset, 'form': index,
                          'dpi': info.get('scan_dpi') or dpi, 'turned_deg': info.get('turned_deg', 0),
                          'skew_deg': info['skew_deg'], 'continuation': offset > 0,
                          'mode': info['mode'], 'jpeg_quality': info['jpeg_quality'],
                          'degradations': info['degradations']})
        form_records.append(_form_render_record(index, rendered))
        page_number += len(rendered.images)
    body = sorted({r['fonts']['body'] for r in form_records})
    title = sorted({r['fonts']['title'] for r in form_records})
    return {
        'schema': SCHEMA,
        'source': {'file': pdf_name, 'sha256': hashlib.sha256(pdf_bytes).hexdigest(),
                   'pages': page_number - 1},
        'forms': forms,
        'review': [],
        'split_fields': split_fields,
        'known_issues': issues,
        'render': {'generator': 'tests.scangen', 'seed': seed, 'level': level, 'dpi': dpi,
                   'fonts': {'body': body, 'title': title}, 'forms': form_records,
                   'pages': pages},
    }


def write_document(out_dir, name, rendered_forms, level, dpi, seed):
    pdf_path = os.path.join(out_dir, f'{name}.pdf')
    truth_path = os.path.join(out_dir, f'{name}.truth.json')
    pages = [(image, info.get('scan_dpi') or dpi, info['jpeg_quality'])
             for r in rendered_forms for image, info in zip(r.images, r.page_infos)]
    data = write_pdf(pdf_path, pages)
    truth = build_truth(os.path.basename(pdf_path), data, rendered_forms, level, dpi, seed)
    with open(truth_path, 'w', encoding='utf-8') as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write('\n')
    return pdf_path, truth_path


def generate(out_dir, forms=30, level='mild', seed=0, per_pdf=4, source='mixed', dpi=200,
             seeds_path=None, progress=None, issue_rate=ISSUE_RATE, scan_dpi=None):
    """Write ceil(forms / per_pdf) image-only PDFs and their truth files into out_dir;
    returns [(pdf_path, truth_path)]. progress: optional callable(message); scan_dpi:
    resample every page to this resolution (the PDF page stays A4)."""
    if per_pdf < 1 or forms < 1:
        raise ValueError('forms and per_pdf must be at least 1')
    os.makedirs(out_dir, exist_ok=True)
    seed_forms = []
    if source != 'synthetic':
        path = seeds_path or DEFAULT_SEEDS
        if os.path.exists(path):
            seed_forms = load_seeds(path)[0]
    sources = pick_sources(seed, forms, source, seed_forms, issue_rate)
    attach_rng = np.random.default_rng(np.random.SeedSequence([seed, 1 << 21]))
    written = []
    for doc, start in enumerate(range(0, forms, per_pdf)):
        rendered = []
        for number in range(start, min(forms, start + per_pdf)):
            attachment = attach_rng.random() < (0.75 if number == start else 0.1)
            rendered.append(render_source(sources[number], number, seed, level, dpi, attachment, scan_dpi))
        name = f'scangen-{level}-s{seed}-{doc + 1:03d}' + (f'-{scan_dpi}dpi' if scan_dpi else '')
        written.append(write_document(out_dir, name, rendered, level, dpi, seed))
        if progress:
            progress(f'{written[-1][0]}: {len(rendered)} forms, '
                     f'{sum(len(r.images) for r in rendered)} pages')
    return written
