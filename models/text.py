"""Text normalisation shared by every stage: dashes, numeric characters and the glyphs
the recogniser confuses with them. One place, so OCR, layout, validation, scoring and
export agree on what a dash or a digit is.
"""
from __future__ import annotations

import re
import unicodedata

DASH = '—'
# Dash glyphs as fonts print them: all mean the contract's '—'.
DASH_GLYPHS = '-‐‑‒–—―−－﹣﹘─━'
# What the recogniser reads a printed dash as in a cell that holds only a dash: the
# glyphs above, the CJK '一' and 'ー' of the same shape, and rule residue ('_', '~').
# Only in a numeric cell: elsewhere '一' is the character one.
DASH_READINGS = DASH_GLYPHS + '一ー_~〜'
# What a numeric cell (money, rate, weight, score) can hold.
NUMERIC_CHARS = '0123456789.%,-—'
# Glyphs that are the same shape as a numeric character. Out of context the model
# cannot tell a lone round '0' from 'O', but in a numeric cell the shape can only be a
# zero. Kept to shapes that are truly the same glyph: 'D' is not a zero, a misread the
# flags must see.
NUMERIC_LOOKALIKES = {'0': 'OoＯΟ〇○Q', '1': 'lI|', '5': 'S', '8': 'B', '9': 'g',
                      '—': '一－―−‐‑‒–ー', '.': '·．', '%': '％', ',': '，'}
# The units a target or result prints after its number ('20份', '≤12万', '100%'), and
# of them those a count is printed with (no item number stands before one: '3.份' is a
# speck read as a point; 余 as in '300余人').
UNITS = ('%', '‰', '万元', '亿元', '元', '万', '个', '家', '人', '次', '项', '套', '份', '台', '月',
         '年', '天', '小时', '人次', '万人次', '家次', '场', '篇', '条', '件', '册', '期', '所', '户')
COUNT_UNIT_CHARS = '个份次人家项场篇条件册期所户台套万元余'
# Glyph variants some fonts print; the contract wants the plain forms.
GLYPH_FIXES = str.maketrans({'⩾': '≥', '⩽': '≤', '﹪': '%'})

_DIGIT_LOOKALIKES = str.maketrans({alike: digit for digit in NUMERIC_LOOKALIKES if digit.isdigit()
                                   for alike in NUMERIC_LOOKALIKES[digit]})
_DASH_RUN = re.compile('[' + re.escape(DASH_GLYPHS) + ']+')
_SPACES = re.compile(r'\s+')
_PLAIN_NUMBER = re.compile(r'[+-]?\d[\d,]*(\.\d+)?%?|—')


def normalise(value) -> str:
    """A value as compared and checked: NFKC, no whitespace, every dash run as '—'."""
    text = unicodedata.normalize('NFKC', str(value or ''))
    return _DASH_RUN.sub(DASH, _SPACES.sub('', text))


def is_han(ch: str) -> bool:
    """A Chinese character (CJK unified ideographs and extension A)."""
    return '\u3400' <= ch <= '\u9fff'


def one_character_off(a: str, b: str) -> bool:
    """Two texts of one length that differ in one character (a misread of one)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def one_character_lost(a: str, b: str) -> bool:
    """One text is the other with one character left out (a worn one lost)."""
    short, long_ = sorted((a, b), key=len)
    return len(long_) == len(short) + 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def is_dash(value) -> bool:
    return normalise(value) == DASH


def reads_as_dash(text: str) -> bool:
    """A numeric cell's whole reading is a printed dash (read as '一', '-', '_' …)."""
    return bool(text) and all(ch in DASH_READINGS for ch in text)


def digits_from_lookalikes(text: str) -> str:
    """'O' or 'Q' for 0, 'l' for 1, 'S' for 5, 'B' for 8, 'g' for 9, in a cell that can only
    hold a number."""
    return text.translate(_DIGIT_LOOKALIKES)


def looks_numeric(text: str) -> bool:
    """A plain number, rate or dash ('396.267529', '1,200', '100%', '—')."""
    return bool(_PLAIN_NUMBER.fullmatch(text))
