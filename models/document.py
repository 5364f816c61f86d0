"""The result contract (perf-self-eval/1 and the other kinds' schemas, see
docs/contracts.md) as pydantic models.

The exported core is exactly the contract; a Form also carries `sources` (where each
field came from: page, cell box, OCR confidence, raw lines) for review and storage.
`Document.contract()` gives the core only. Which keys a form has comes from its kind's
template (models/template.py): header fields other kinds name are kept as extra
fields of the model.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from models.template import DEFAULT_SCHEMA, template_for

SCHEMA_ID = DEFAULT_SCHEMA

FUND_ITEMS = ('年度资金总额', '其中：当年财政拨款', '上年结转资金', '其他资金')
FUND_VALUE_KEYS = ('initial_budget', 'annual_budget', 'executed', 'weight',
                   'execution_rate', 'score')
INDICATOR_KEYS = ('level1', 'level2', 'level3', 'target', 'actual', 'weight', 'score',
                  'deviation_note')


class FlagReason(str, Enum):
    low_confidence = 'low_confidence'
    split_number = 'split_number'
    arithmetic = 'arithmetic'
    missing = 'missing'
    unparsed = 'unparsed'
    structure = 'structure'
    page_quality = 'page_quality'     # the page is too rough to trust what was read on it


class FieldSource(BaseModel):
    """Where a field's value was read: page (1-based), cell box in page pixels, the
    OCR confidence of the value, the raw text lines it was joined from, and a second
    engine's differing reading if there was one."""
    page: Optional[int] = None
    bbox: Optional[list[int]] = None
    confidence: Optional[float] = None
    # The least sure character of the value (a confident line can hold one misread).
    min_char_confidence: Optional[float] = None
    lines: list[str] = Field(default_factory=list)
    # What a second OCR engine read where it disagreed with the kept reading.
    second_reading: Optional[str] = None


class FundsRow(BaseModel):
    # Another kind's rows block may have columns of its own.
    model_config = ConfigDict(extra='allow')

    item: Optional[str] = None
    initial_budget: Optional[str] = None
    annual_budget: Optional[str] = None
    executed: Optional[str] = None
    weight: Optional[str] = None
    execution_rate: Optional[str] = None
    score: Optional[str] = None


class Goals(BaseModel):
    model_config = ConfigDict(extra='allow')

    expected: Optional[str] = None
    actual: Optional[str] = None


class Indicator(BaseModel):
    model_config = ConfigDict(extra='allow')

    level1: Optional[str] = None
    level2: Optional[str] = None
    level3: Optional[str] = None
    target: Optional[str] = None
    actual: Optional[str] = None
    weight: Optional[str] = None
    score: Optional[str] = None
    deviation_note: Optional[str] = None


class Total(BaseModel):
    model_config = ConfigDict(extra='allow')

    weight: Optional[str] = None
    score: Optional[str] = None


class Form(BaseModel):
    # Header fields of other kinds than the project form are extra fields.
    model_config = ConfigDict(extra='allow', populate_by_name=True)

    schema_id: str = Field(default=SCHEMA_ID, alias='schema')
    title: str = '项目支出绩效自评表'
    year: Optional[str] = None
    pages: list[int] = Field(default_factory=list)
    project_name: Optional[str] = None
    department: Optional[str] = None
    implementing_unit: Optional[str] = None
    funds: list[FundsRow] = Field(default_factory=list)
    goals: Goals = Field(default_factory=Goals)
    indicators: list[Indicator] = Field(default_factory=list)
    total: Optional[Total] = None
    # Not part of the exported core: dotted field path -> where it was read.
    sources: dict[str, FieldSource] = Field(default_factory=dict, exclude=True)

    def get(self, path: str):
        """Value at a dotted contract path ('funds.0.executed', 'total.score')."""
        node = self
        for part in path.split('.'):
            if node is None:
                return None
            node = node[int(part)] if part.isdigit() else getattr(node, part, None)
        return node

    def set(self, path: str, value) -> None:
        parts = path.split('.')
        node = self
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else getattr(node, part)
        setattr(node, parts[-1], value)

    @property
    def template(self):
        return template_for(self.schema_id)

    def field_paths(self) -> list[str]:
        """Every leaf path of the exported core, in reading order."""
        return self.template.field_paths(len(self.funds), len(self.indicators), self.total is not None)

    def contract(self) -> dict:
        """The exported core of this form: the keys its kind's template names, in order."""
        t = self.template
        data = self.model_dump(mode='json', by_alias=True)
        keys = ['schema', 'title', 'year', 'pages'] + t.header_keys
        keys += [block.key for block in (t.rows, t.pair, t.table, t.total) if block is not None]
        out = {key: data.get(key) for key in keys}
        if t.rows:
            names = [t.rows.item_key] + [c.key for c in t.rows.columns]
            out[t.rows.key] = [{k: row.get(k) for k in names} for row in data.get(t.rows.key) or []]
        if t.table:
            names = [c.key for c in t.table.columns]
            out[t.table.key] = [{k: row.get(k) for k in names} for row in data.get(t.table.key) or []]
        return out


class Flag(BaseModel):
    model_config = ConfigDict(use_enum_values=True)

    form: int
    field: str
    value: Optional[str] = None
    reason: FlagReason
    confidence: Optional[float] = None
    page: Optional[int] = None
    bbox: Optional[list[int]] = None
    detail: str = ''


# The reason a page's grade gives when it holds no ruled table (it is no form's page).
NO_TABLE_REASON = 'no ruled table found'


class PageQuality(BaseModel):
    """How readable a page was, measured on the page itself (preprocess and grid):
    what the batch report's residual estimate and the review app go by."""
    page: int
    grade: str = 'good'               # good | fair | rough | unreadable
    turned_deg: int = 0               # quarter turns undone before reading (0/90/180/270)
    skew_deg: float = 0.0
    speckle_per_cm2: float = 0.0      # isolated specks found (and removed) per cm² of page
    contrast: float = 0.0             # print darkness against the paper, 0-1 (1: black on white)
    stroke_mm: float = 0.0            # median stroke width of the print
    rule_continuity: float = 1.0      # share of the table's lattice walls that are solid rules
    bilevel: bool = False             # a 1-bit (fax or black-and-white) scan
    halftone: bool = False            # a dithered (halftone) scan, smoothed back to gray to be read
    unsure_lines: float = 0.0         # share of the page's text lines read with confidence < 0.9
    reasons: list[str] = Field(default_factory=list)   # what made the grade worse than good


class Source(BaseModel):
    file: str
    sha256: str
    pages: int
    # Archival metadata from a manifest (档号, box, batch, ...): column -> value. Left
    # out of the JSON when there is none.
    metadata: Optional[dict[str, str]] = None

    @model_serializer(mode='wrap')
    def _without_empty_metadata(self, handler):
        data = handler(self)
        if isinstance(data, dict) and data.get('metadata') is None:
            data.pop('metadata', None)
        return data


class UnmatchedPage(BaseModel):
    """A page that is no known form (no known title, or a table that fits no kind)."""
    page: int
    reason: str


class Document(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_id: str = Field(default=SCHEMA_ID, alias='schema')
    source: Source
    forms: list[Form] = Field(default_factory=list)
    review: list[Flag] = Field(default_factory=list)
    unmatched_pages: list[UnmatchedPage] = Field(default_factory=list)
    # Per page, how readable it was (not part of the exported core).
    quality: list[PageQuality] = Field(default_factory=list)

    def contract(self) -> dict:
        """The exported core as plain JSON-ready data (keys as in the contract)."""
        data = self.model_dump(mode='json', by_alias=True, exclude={'quality', 'forms'})
        data['forms'] = [form.contract() for form in self.forms]
        return {key: data[key] for key in ('schema', 'source', 'forms', 'review', 'unmatched_pages')}

    def full(self) -> dict:
        """Core plus each form's field sources, for storage and review."""
        data = self.contract()
        data['quality'] = [q.model_dump(mode='json') for q in self.quality]
        for form_data, form in zip(data['forms'], self.forms):
            form_data['sources'] = {k: v.model_dump(mode='json') for k, v in form.sources.items()}
        return data

    @classmethod
    def from_full(cls, data: dict) -> 'Document':
        doc = cls.model_validate(data)
        for form, form_data in zip(doc.forms, data.get('forms', [])):
            form.sources = {k: FieldSource.model_validate(v)
                            for k, v in (form_data.get('sources') or {}).items()}
        return doc
