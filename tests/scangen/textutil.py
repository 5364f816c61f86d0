"""Cell-text helpers shared by the seed parser, the synthetic generator and the rules.

The conventions follow the result contract (shared/schema/README.md): a printed dash is
"—", an empty cell is None, wrapped text is joined (Chinese without a space, Latin words
with one space)."""
import re
import unicodedata
from decimal import Decimal, InvalidOperation

DASH = '—'
DASH_CHARS = '-‐‑‒–—―−－﹣﹘─━'
_DASH_ONLY = re.compile('^[' + re.escape(DASH_CHARS) + ']+$')
_LATEX = [(r'\geq', '≥'), (r'\leq', '≤'), (r'\%', '%'), ('$', '')]
_PLAIN_NUMBER = re.compile(r'^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)$')
# A value that is one number, optionally with a comparator in front and a short unit
# after ('396.267529', '≤50000元', '≥99.99%'). Same meaning as number_shaped() in
# shared/tools/formlib.py, which decides what the scorer treats as a split number.
_COMPARATORS = r'(?:[≤≥<>=＜＞≦≧约]|不少于|不超过|大于|小于)?'
_UNITS = ('%', '‰', '万元', '亿元', '元', '万', '个', '家', '人', '次', '项', '套', '份', '台',
          '月', '年', '天', '小时', '人次', '万人次', '家次', '场', '篇', '条', '件', '册', '期',
          '所', '户')
_NUMBER_SHAPED = re.compile(
    '^' + _COMPARATORS + r'[+-]?\d[\d,]*(?:\.\d+)?(?:'
    + '|'.join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True)) + ')?$')


def is_ascii_word_char(ch):
    return ch.isascii() and ch.isalpha()


def squeeze_spaces(text):
    """Drop whitespace except a single space between two Latin letters.

    The seed text puts stray spaces around numbers and Chinese ('2024 年', '≤ 90 万元')
    and splits wrapped numbers with a space ('396.26752 9'); the printed cell has none."""
    out = []
    chars = list(text)
    for i, ch in enumerate(chars):
        if not ch.isspace():
            out.append(ch)
            continue
        prev = out[-1] if out else ''
        nxt = next((c for c in chars[i + 1:] if not c.isspace()), '')
        if is_ascii_word_char(prev) and is_ascii_word_char(nxt) and out[-1] != ' ':
            out.append(' ')
    return ''.join(out)


def clean_cell(raw):
    """Printed-cell value of one raw text cell: None if empty, '—' for a dash."""
    if raw is None:
        return None
    text = raw
    for src, dst in _LATEX:
        text = text.replace(src, dst)
    text = squeeze_spaces(text.strip())
    if not text:
        return None
    if _DASH_ONLY.match(text):
        return DASH
    return text


def compact(text):
    """Comparison form: NFKC and no whitespace (used to match labels)."""
    return re.sub(r'\s+', '', unicodedata.normalize('NFKC', text or ''))


def is_dash(value):
    return value is not None and bool(_DASH_ONLY.match(compact(value)))


def parse_number(value):
    """(Decimal, is_percent) for a plain number such as '12.5', '1,500' or '100%';
    None for anything else (dashes, units, comparators, text)."""
    if value is None:
        return None
    m = _PLAIN_NUMBER.match(compact(value))
    if not m:
        return None
    sign, whole, frac, pct = m.groups()
    try:
        return Decimal(sign + whole.replace(',', '') + (frac or '')), bool(pct)
    except InvalidOperation:
        return None


def number_value(value):
    """Decimal of a plain number (percent sign ignored) or None."""
    parsed = parse_number(value)
    return None if parsed is None else parsed[0]


def number_shaped(value):
    text = compact(value)
    return bool(text) and any(c.isdigit() for c in text) and bool(_NUMBER_SHAPED.match(text))


def decimals_of(value):
    """Number of digits after the decimal point in a printed number ('99.5%' -> 1)."""
    m = re.search(r'\.(\d+)', compact(value or ''))
    return len(m.group(1)) if m else 0
