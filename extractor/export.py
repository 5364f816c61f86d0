"""Export: write a Document's contract JSON. Written to a temporary name and renamed,
so a reader (or a crash) never sees half a file."""
from __future__ import annotations

import json
import os


def write_json(path: str, data) -> None:
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'w', encoding='utf-8') as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.write('\n')
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):       # failed half way (disk full, text that is not UTF-8)
            os.unlink(tmp)
