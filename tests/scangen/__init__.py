"""scangen: realistic scans of 项目支出绩效自评表 (and 部门整体支出绩效自评表) forms with
exact truth files.

    python -m tests.scangen --out DIR [--forms 30] [--level clean|mild|hard|rough] [--seed 0]
                            [--per-pdf 4] [--source seeds|synthetic|mixed] [--dpi 200]
                            [--kinds project,department,other]

Python API:
    generate(out_dir, forms=30, level='mild', seed=0, per_pdf=4, source='mixed',
             kinds=('project',)) -> [(pdf_path, truth_path)]
    render_form_pages(form_dict, font, rng, ...) -> [PIL.Image]   (clean pages of one form)
    degrade(image, level, rng) -> PIL.Image   (what was applied: image.info['scangen'])
See README.md in this directory for the truth format and the conventions.
"""
from .corpus import generate
from .degrade import degrade
from .others import render_other_page
from .render import render_form_pages
from .rules import find_issues
from .seeds import load_seeds, parse_seed_text
from .synth import make_synthetic_form
from .synth_dept import make_department_form

__all__ = ['generate', 'degrade', 'render_form_pages', 'find_issues', 'load_seeds',
           'parse_seed_text', 'make_synthetic_form', 'make_department_form', 'render_other_page']
