"""Plain data passed between the pipeline stages:

    ingest -> Page -> preprocess -> CleanPage -> grid -> PageGrid
    ocr(CleanPage, PageGrid) -> list[CellText]  ==> PageResult (per page, JSON-safe)
    layout(list[PageResult]) -> forms ; validate(forms) -> flags

Images travel as numpy arrays inside Page/CleanPage only; everything from the grid on is
pydantic and JSON-serialisable, so a page's result can cross a task queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from pydantic import BaseModel, Field


@dataclass
class Page:
    """One rendered or loaded page image (BGR or gray uint8) and where it came from."""
    number: int            # 1-based page number in its file
    image: np.ndarray
    dpi: int
    source: str = ''


@dataclass
class CleanPage:
    """A page after cleaning: deskewed gray image with stamps and uneven light removed,
    and its binary ink mask (ink = 255) used by the grid and the OCR line finder."""
    number: int
    gray: np.ndarray
    ink: np.ndarray
    dpi: int
    angle: float = 0.0          # degrees the scan was rotated by to straighten it
    notes: list[str] = field(default_factory=list)
    # What preprocess measured on the page (turned_deg, speckle_per_cm2, contrast,
    # stroke_mm, text_mm, bilevel): the page's quality record starts from these.
    measures: dict = field(default_factory=dict)
    # Where a seal's ink lay dense (255), in the cleaned page's pixels: print under it
    # may have gone with the seal. None when the page had no seal.
    sealed: Optional[np.ndarray] = None
    # The specks wiped off the straightened page (255), in its pixels: a printed hyphen
    # of a small font is as small, and a cell left empty by its loss is checked here.
    specks: Optional[np.ndarray] = None


class Cell(BaseModel):
    """A cell of a ruled table: its lattice position (with spans) and its box in page
    pixels [x0, y0, x1, y1]."""
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    bbox: list[int]


class Table(BaseModel):
    bbox: list[int]
    row_edges: list[int]        # y of each horizontal lattice line, top to bottom
    col_edges: list[int]        # x of each vertical lattice line, left to right
    cells: list[Cell]

    @property
    def n_rows(self) -> int:
        return len(self.row_edges) - 1

    @property
    def n_cols(self) -> int:
        return len(self.col_edges) - 1


class PageGrid(BaseModel):
    width: int
    height: int
    tables: list[Table] = Field(default_factory=list)
    # Detected ruling segments [x0, y0, x1, y1], for debug overlays.
    h_lines: list[list[int]] = Field(default_factory=list)
    v_lines: list[list[int]] = Field(default_factory=list)
    # Per table, the mean inked share of the lattice edges taken as walls (1: every
    # rule solid; low: faint or broken rules bridged by the grid stage).
    wall_coverage: list[float] = Field(default_factory=list)


class TextLine(BaseModel):
    """One recognised text line. `numeric` is the same line decoded with only the
    characters a numeric cell can hold, for the layout to prefer in numeric columns."""
    text: str
    confidence: float
    bbox: list[int]
    numeric: Optional[str] = None
    numeric_confidence: Optional[float] = None
    min_char_confidence: Optional[float] = None
    disagreement: Optional[str] = None      # a second engine read this instead
    barred: Optional[str] = None            # the text with > < read as ≥ ≤ (the model gave them some chance)
    sealed: Optional[float] = None          # share of the line's box under a seal's dense ink
    # Share of the character-sized slot beside the line, on the side it stands off its
    # cell's middle, under a seal's dense ink: a character printed there goes with the
    # seal when it is lifted, and leaves the rest off the middle ('≤12月' read '12月').
    sealed_beside: Optional[float] = None
    # How many characters the line's width holds, when clearly more than were read (a
    # line of Chinese: the recogniser lost one); None otherwise.
    room_for: Optional[int] = None
    # The two Chinese characters round a gap a character wide with nothing read in it
    # (the recogniser dropped what stood there); None: no such gap.
    empty_slot: Optional[str] = None
    # The text with one Chinese character changed to one of the recogniser's runners-up
    # for it, where that reads as likelier words (阶段性 for 价段性); None otherwise.
    runner_up: Optional[str] = None
    # The least sure digit's confidence (None: no digit read; set on text outside
    # tables, where the year is read).
    min_digit_confidence: Optional[float] = None


class CellText(BaseModel):
    table: int
    cell: int
    lines: list[TextLine] = Field(default_factory=list)
    # Print of a character's height found in the cell that the recogniser read as
    # nothing: the cell is not known to be empty.
    unread: bool = False

    @property
    def text(self) -> str:
        return ''.join(line.text for line in self.lines)


class PageResult(BaseModel):
    """Everything the per-page stages found on one page: what the document assembly
    (layout, validate) needs, and nothing that holds an image."""
    number: int
    dpi: int
    angle: float = 0.0
    grid: PageGrid
    cells: list[CellText] = Field(default_factory=list)
    loose_text: list[TextLine] = Field(default_factory=list)   # text outside tables (titles)
    notes: list[str] = Field(default_factory=list)
    # Page measures from preprocess and grid (see models.document.PageQuality).
    measures: dict = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
