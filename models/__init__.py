"""The shared vocabulary of the extractor: the result contract (document.py) and the
plain data that flows between pipeline stages (pipeline.py)."""
from models.document import (SCHEMA_ID, Document, FieldSource, Flag, FlagReason, Form,
                             FundsRow, Goals, Indicator, PageQuality, Source, Total,
                             UnmatchedPage)
from models.pipeline import (Cell, CellText, CleanPage, Page, PageGrid, PageResult, Table,
                             TextLine)

__all__ = [
    'SCHEMA_ID', 'Document', 'FieldSource', 'Flag', 'FlagReason', 'Form', 'FundsRow',
    'Goals', 'Indicator', 'PageQuality', 'Source', 'Total', 'UnmatchedPage',
    'Cell', 'CellText', 'CleanPage', 'Page', 'PageGrid', 'PageResult', 'Table', 'TextLine',
]
