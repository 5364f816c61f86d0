"""Stage 6, validate: Forms -> Flags for every field a human should check.

Reasons (see the contract): split_number, low_confidence, arithmetic, missing, unparsed.
The printed forms themselves break rules sometimes; those are flagged, never "fixed".
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass
from typing import NamedTuple, Optional

from models import FieldSource, Flag, FlagReason, Form, PageQuality, PageResult
from models.document import NO_TABLE_REASON
from models.template import Rule
from models.text import UNITS, is_dash, normalise, one_character_lost, one_character_off

# The OCR confidence below which a field goes to review. Chosen with
# benchmarks/flag_threshold.py on 60 generated forms (mild + hard, 5507 fields): at 0.97
# 4 wrong fields stay unflagged and 1.4% of fields are added to review; 0.93 leaves 7
# and adds 1.0%; 0.99 leaves 4 but adds 4.9%.
LOW_CONFIDENCE = 0.97
# A line read confidently as a whole can hold one character the model was unsure of (工
# read as 土 in a long sentence): text whose least sure character is below this goes to
# review too. Measured on the tuning scans (hard, seeds 9494, 8312, 9101; 2220 text
# fields of 6+ characters): 0.8 catches 8 of 12 silent misreads for 42 more flags;
# 0.7 catches 5 for 19; 0.9 catches 9 for 112.
LOW_CHAR_CONFIDENCE = 0.8

_NUM = re.compile(r'^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)$')
_NUMBER_SHAPED = re.compile(
    r'^(?:[≤≥<>=＜＞≦≧约]|不少于|不超过|大于|小于)?[+-]?\d[\d,]*(?:\.\d+)?'
    r'(?:' + '|'.join(map(re.escape, UNITS)) + r')?$')
_norm = normalise
# A Latin point, a middle dot or a Latin quote right after a Chinese character (or after
# 。): Chinese text ends with 。 and quotes with ‘ ’ “ ”; these are specks read as marks.
_NEVER_OPENS = '.,;:!?)]}。，、；：！？）》」』】'
# A comma between digits that is not followed by exactly three of them.
_ODD_COMMA = re.compile(r'\d,(?=\d)(?!\d{3}(?!\d))')
# A colon between two digits: the forms print times nowhere (none among the seeds' or
# the generated truths' values), so it is a point with a speck over it ('39:8万').
_COLON_IN_NUMBER = re.compile(r'\d[:：]\d')
# ... or between a digit and a Chinese character: a list number's point ('4:组织开展…'
# for '4.组织开展…'; none among the seeds' or the generated truths' values).
_COLON_AFTER_DIGIT = re.compile(r'\d[:：](?=[\u3400-\u9fff])')
# A comparison sign with no number after it ('≤年' for '≤1年'): the forms print one
# only before a number (every one among the seeds' and the generated truths' values).
_BARE_COMPARISON = re.compile(r'[≥≤＞＜<>](?!\s*[0-9０-９.])')
# A list number read as a letter ('i.做好…' for '1.做好…'): a lone Latin letter and a
# point opening the text or a sentence, Chinese after it.
_LETTER_NUMBERING = re.compile(r'(?:^|[。；;])[A-Za-z][.．、](?=[\u3400-\u9fff])')
# A Latin letter shaped like a digit (i l I: 1; o O Q D: 0; S: 5; B: 8; Z: 2) touching a
# digit and no other letter, or alone before Chinese at the value's start ('i人' for
# '1人', '2Q份' for '20份'): how the recogniser reads a worn digit. The forms print no
# such thing (none among the seeds' or the generated truths' values; every one read on
# the tuning scans, office and scanner damage included, was wrong).
_LETTER_FOR_DIGIT = re.compile(r'(?<![A-Za-z])[ilIoOQDSBZ](?=[0-9])|(?<=[0-9])[ilIoOQDSBZ](?![A-Za-z])'
                               r'|^[ilIoOQDSBZ](?=[\u3400-\u9fff])')
# A lone Latin letter between two Chinese characters ('重点t作' for '重点工作'): a worn
# character read as a letter; the forms print none (not among the seeds' or the
# generated truths' values; a grade such as 'A级' follows a digit or opens the text).
_LETTER_BETWEEN_HAN = re.compile(r'[\u3400-\u9fff][A-Za-z][\u3400-\u9fff]')
# 方 right after a number ('≤23方' for '≤23万'): the recogniser's reading of a worn 万.
# The forms count in 万 (53 times among the seeds' values) and never in 方 (none); a
# word that starts with 方 (方米, 方案, 方面) goes on.
_FANG_FOR_WAN = re.compile(r'\d方(?![米案面式法向位])')
# A name ending with another of the form's names this long or longer holds it: a body's
# name is four characters and more (区文旅局).
SAME_OR_APART_TAIL = 4
_POINT_AFTER_HAN = re.compile(r"[\u3400-\u9fff。，、；：][.·•'`]")
# The marks above that only a misreading prints, in the order they are checked, with
# what the flag says ({value}: the value's first 20 characters; {found}: what matched).
# A comma between digits groups thousands; before one or two digits ('2023.08,17') it
# is a point misread.
_MISREAD_MARKS = [
    (_ODD_COMMA, "{value!r}: a comma inside a number that groups no thousands"),
    (_COLON_IN_NUMBER, "{value!r}: a colon between digits (a point misread?)"),
    (_COLON_AFTER_DIGIT, "{found!r}: a colon after a number (a list number's point misread?)"),
    (_BARE_COMPARISON, "{value!r}: a comparison sign with no number after it"),
    (_LETTER_FOR_DIGIT, "{value!r}: a letter where a digit would stand?"),
    (_FANG_FOR_WAN, "{value!r}: 方 after a number (a worn 万?)"),
    (_LETTER_NUMBERING, "{value!r}…: a list number read as a letter?"),
    (_LETTER_BETWEEN_HAN, "{found!r}: a Latin letter between Chinese characters"),
]


def _misread_mark(value: str) -> Optional[str]:
    """What the first of _MISREAD_MARKS found in the value says; None when none."""
    for pattern, detail in _MISREAD_MARKS:
        if (match := pattern.search(value)):
            return detail.format(value=value[:20], found=match.group())
    return None


class Number(NamedTuple):
    value: Decimal
    percent: bool
    decimals: int


def parse_number(value) -> Optional[Number]:
    """(value, is_percent, decimals) for a plain number such as '396.267529' or '100%'."""
    m = _NUM.match(_norm(value))
    if not m:
        return None
    sign, whole, frac, pct = m.groups()
    try:
        number = Decimal(sign + whole.replace(',', '') + (frac or ''))
    except InvalidOperation:
        return None
    return Number(number, bool(pct), len(frac) - 1 if frac else 0)


def quotes_pair(text: str) -> bool:
    """Whether the curly quotes of a text take turns, opening before closing (“…”,
    ‘…’, nested or not); a text with none pairs trivially. An opening left unclosed at
    the end is allowed (a quote may run on into the next cell or line)."""
    for opening, closing in (('“', '”'), ('‘', '’')):
        inside = False
        for ch in text:
            if ch == opening:
                if inside:
                    return False
                inside = True
            elif ch == closing:
                if not inside:
                    return False
                inside = False
    return True


def digits_at_a_break(lines: list[str]) -> bool:
    """Whether a line of the cell ends with a digit and the next begins with one."""
    kept = [line.strip() for line in lines if line.strip()]
    return any(a[-1].isdigit() and b[0].isdigit() for a, b in zip(kept, kept[1:]))


def number_shaped(value) -> bool:
    s = _norm(value)
    return bool(s) and bool(_NUMBER_SHAPED.match(s)) and any(c.isdigit() for c in s)


def expand(form: Form, pattern: str) -> list[str]:
    """The paths a rule pattern names on this form: 'indicators.*.score' is every
    indicator row's score; a path into a row or block the form lacks names nothing."""
    parts = pattern.split('.')
    paths = ['']
    for part in parts:
        grown = []
        for prefix in paths:
            base = prefix[:-1] if prefix else ''
            if part == '*':
                rows = form.get(base) if base else None
                grown += [f'{prefix}{i}.' for i in range(len(rows or []))]
            else:
                grown.append(f'{prefix}{part}.')
        paths = grown
    out = []
    for path in (p[:-1] for p in paths):
        head = path.split('.')
        if len(head) >= 2 and head[1].isdigit():
            rows = form.get(head[0])
            if not rows or int(head[1]) >= len(rows):
                continue
        elif len(head) >= 2 and form.get(head[0]) is None:
            continue
        out.append(path)
    return out


class Checker:
    """The flags of one form: per field (confidence, split numbers, unparsed numbers,
    labels in values), then the kind's rules, one evaluator per rule type."""

    def __init__(self, form: Form, index: int):
        self.form, self.index = form, index
        self.template = form.template
        self.flags: list[Flag] = []

    def flag(self, path: str, reason: FlagReason, detail: str, confidence=None) -> None:
        source = self.form.sources.get(path)
        value = self.form.get(path) if '.' in path or path in self.template.header_keys + ['title', 'year'] else None
        self.flags.append(Flag(
            form=self.index, field=path, value=value if isinstance(value, str) else None,
            reason=reason, detail=detail,
            confidence=confidence if confidence is not None else (source.confidence if source else None),
            page=source.page if source else (self.form.pages[0] if self.form.pages else None),
            bbox=source.bbox if source else None))

    def num(self, path: str) -> Optional[Number]:
        return parse_number(self.form.get(path))

    # ---------------------------------------------------------------- per field
    def fields(self) -> None:
        for path in self.form.field_paths():
            value = self.form.get(path)
            source = self.form.sources.get(path)
            column = self.template.column(path)
            if source and len([l for l in source.lines if l.strip()]) > 1 and number_shaped(value):
                self.flag(path, FlagReason.split_number,
                          'number on several lines inside one cell: '
                          + ' + '.join(repr(l) for l in source.lines))
            elif source and digits_at_a_break(source.lines):
                # Wrapped text breaks between digits only inside a number or where a
                # separator stood ('2023.08.17-' over '2024.10.17': a dash at a line's
                # end is read as nothing): which, the lines do not tell.
                self.flag(path, FlagReason.low_confidence,
                          'a line break between digits (a number split, or a dash or separator '
                          'there lost): ' + ' + '.join(repr(l) for l in source.lines))
            names = set(column.names) if column else set()
            # A printed name (a category, a funds item) is read off a fixed list: once
            # the reading is that name, how sure the recogniser was of it says nothing.
            printed = printed_names(self.template, path)
            # (A printed name read whole is right whatever the other engine read, unless
            # that is another of the names: '消德度指标' against 满意度指标 says nothing.)
            known_name = _norm(value) in printed
            if len(_norm(value)) >= 2 and not known_name and any(_norm(value) in name for name in names):
                # Part of a category name ('度指' of 满意度指标): a merged cell read in part.
                self.flag(path, FlagReason.structure, f'{value!r} looks like a category name cut short')
            elif not known_name and any(name in _norm(value) for name in names):
                # A category name and more in one cell ('产出指标绩效指标', two rows'
                # names): the rule to a neighbouring cell was lost.
                self.flag(path, FlagReason.structure, f'{value!r} holds a category name and more')
            elif names and _norm(value) and not known_name:
                # A column that prints one of a few names (the 2024 publication: all
                # 426 of its category cells) read as something else: the table's label
                # 绩效指标 where 效益指标 stood, noise round a name left in place.
                self.flag(path, FlagReason.low_confidence, f'{value!r} is none of the names the column prints')
            comparable = self.template.is_comparison(path)
            if source and source.confidence is not None and source.confidence < LOW_CONFIDENCE and value \
                    and not known_name:
                self.flag(path, FlagReason.low_confidence, f'OCR confidence {source.confidence:.2f}')
            elif source and source.second_reading is not None and _norm(source.second_reading) != _norm(value) \
                    and not (known_name and (_norm(value) in _norm(source.second_reading)
                                             or _norm(source.second_reading) not in printed)) \
                    and not fast_model_slip(_norm(value), _norm(source.second_reading)):
                self.flag(path, FlagReason.low_confidence,
                          f'two OCR engines disagree: {value!r} vs {source.second_reading!r}')
            elif source and source.min_char_confidence is not None and value and not known_name \
                    and source.min_char_confidence < LOW_CHAR_CONFIDENCE \
                    and not (column is not None and column.numeric) \
                    and (path == 'year' or not number_shaped(value)):
                # (A number in a cell is judged on the line as a whole, read with the
                # number decoder; the year is read off the title's text line.)
                self.flag(path, FlagReason.low_confidence,
                          f'a character read with confidence {source.min_char_confidence:.2f}')
            elif comparable and value and _norm(value)[:1] in '<>':
                # The recogniser reads ≥ and ≤ as > and < with full confidence; the forms
                # write targets with ≥ and ≤, and a bare > or < is rare enough to check.
                self.flag(path, FlagReason.low_confidence, f'{value!r}: ≥ and ≤ are often read as > and <')
            elif value and isinstance(value, str) and not (column is not None and column.numeric) \
                    and _norm(value)[:1] in _NEVER_OPENS:
                # Text never opens with a point or a closing mark: what stood before it
                # ('1.建立…' read '.建立…') was lost at the cell's edge.
                self.flag(path, FlagReason.low_confidence, f'{value!r} opens with a mark: a character before it '
                                                           'may be lost')
            elif value and isinstance(value, str) and not quotes_pair(value):
                # “ and ” (‘ and ’) take turns in print; two openings in a row or a
                # closing first is a quote misread (” read as “) or lost.
                self.flag(path, FlagReason.low_confidence, f'{value!r}: its quotes do not pair up')
            elif value and isinstance(value, str) and _norm(value)[-1:] in '：:':
                # A cell's text does not end on a colon (it introduces what follows):
                # a closing 。 read as ：.
                self.flag(path, FlagReason.low_confidence, f'{value!r} ends with a colon: a 。 misread?')
            elif value and isinstance(value, str) and (misread := _misread_mark(value)):
                self.flag(path, FlagReason.low_confidence, misread)
            elif value and isinstance(value, str) and _POINT_AFTER_HAN.search(value):
                # Chinese text ends a sentence with 。; a point right after a character is
                # a speck read as one, or a 。 filled in by blur.
                self.flag(path, FlagReason.low_confidence, f'{value!r}: a Latin mark after a Chinese character')
            elif value and isinstance(value, str) and not (column is not None and column.numeric) \
                    and _stop_inside_short_text(value):
                # A 。 ends a sentence; inside a short text (a name, a target) it ends
                # none: a speck read as one ('参会人员对活动。满意度').
                self.flag(path, FlagReason.low_confidence, f'{value!r}: a 。 inside a short text (a speck?)')
            elif value and isinstance(value, str) and column is not None and column.kind == 'name' \
                    and _stop_closing_a_name(value):
                # ... and a name of a few words with no sentence mark in them is no
                # sentence that a 。 closes: a speck after it read as one ('形成培训成果。').
                self.flag(path, FlagReason.low_confidence, f'{value!r}: a 。 closing a short name (a speck?)')
            elif value and isinstance(value, str) and column is not None and column.kind == 'prose' \
                    and (unclosed := _unclosed_sentence(value)):
                # Sentences close with 。: a faint or small closing mark is the one a
                # recogniser loses most ('…创新城”' for '…创新城”。').
                self.flag(path, FlagReason.low_confidence, f'{value!r}: {unclosed} (a 。 lost?)')
            elif comparable and value and isinstance(value, str) and _norm(value) in UNITS:
                # A target or result that is a unit alone counts nothing: its number was
                # lost ('1次' read '次', a thin 1 by the cell's edge taken for a rule).
                self.flag(path, FlagReason.low_confidence, f'{value!r}: a unit without its number')
            if column is not None and column.numeric and value and not is_dash(value) \
                    and parse_number(value) is None:
                self.flag(path, FlagReason.unparsed, f'{value!r} is not a number, rate or dash')

    def labels_in_values(self) -> None:
        """A header or pair value that holds a section label took in a neighbouring
        cell: a rule between them was lost. (One header value inside another is not
        such a sign: project names often start with the department's name.)"""
        t = self.template
        # Labels no header value or goal would hold (the table's label or the total's
        # could be).
        labels = [h.label for h in t.header] + (t.rows.labels[:1] if t.rows else []) \
            + ([t.pair.label] if t.pair else [])
        paths = t.header_keys + ([f'{t.pair.key}.{c.key}' for c in t.pair.fields] if t.pair else [])
        for path in paths:
            value = _norm(self.form.get(path))
            source = self.form.sources.get(path)
            lines = {_norm(line) for line in source.lines} if source else set()
            for label in labels:
                name = _norm(label)
                if name in value and value != name:
                    self.flag(path, FlagReason.structure, f'the value holds the label {name}: '
                                                         'a neighbouring cell ran into it')
                    break
                # The label wrapped in its narrow cell, its halves lines of their own
                # round the neighbour's value ('…信息化局' / '实施' / '…促进中心' / '单位').
                if any(name[:k] in lines and name[k:] in lines for k in range(2, len(name) - 1)):
                    self.flag(path, FlagReason.structure, f'the value holds the label {name} wrapped over two '
                                                         'lines: a neighbouring cell ran into it')
                    break

    def blocks(self) -> None:
        """A block the kind prints that was not found at all."""
        t = self.template
        if t.rows and not self.form.get(t.rows.key):
            self.flag(t.rows.key, FlagReason.missing, f'no {t.rows.key} rows found')
        if t.table and not self.form.get(t.table.key):
            self.flag(t.table.key, FlagReason.missing, f'no {t.table.key} rows found')
        if t.total and self.form.get(t.total.key) is None:
            self.flag(t.total.key, FlagReason.missing, f'no {t.total.label} row: the form looks cut off')

    def empty_columns(self) -> None:
        """A table column empty in half its rows or more (of EMPTY_COLUMN_ROWS or more):
        its values were read under another column (the rules of a merged header lost:
        the actual values read as weights) or lost with a rule. The forms fill every
        column they print (3 of the 3,275 generated rows leave the actual value empty,
        never two in a form). Each empty field of it is flagged."""
        table = self.template.table
        rows = self.form.get(table.key) if table else None
        if not rows or len(rows) < EMPTY_COLUMN_ROWS:
            return
        for column in table.columns:
            if column.optional:
                continue
            empty = [i for i in range(len(rows)) if not _norm(self.form.get(f'{table.key}.{i}.{column.key}'))]
            if 2 * len(empty) >= len(rows):
                for i in empty:
                    self.flag(f'{table.key}.{i}.{column.key}', FlagReason.structure,
                              f'the {column.label} column is empty in {len(empty)} of {len(rows)} rows: '
                              'its values may have been read under another column')

    def lone_money_dashes(self) -> None:
        """A dash alone among a row's amounts (the others blank or numbers): a speck or
        a rule's piece read as one. Amounts are numbers or blank on these forms (none
        of the seeds' or generated truths' is a dash); a row printing dashes for its
        amounts prints them in every amount cell."""
        block = self.template.rows
        if not block:
            return
        money = [c.key for c in block.columns if c.kind == 'money']
        for row in range(len(self.form.get(block.key) or [])):
            values = {key: self.form.get(f'{block.key}.{row}.{key}') for key in money}
            dashes = [key for key, value in values.items() if is_dash(value)]
            if dashes and len(dashes) < len(money):
                for key in dashes:
                    self.flag(f'{block.key}.{row}.{key}', FlagReason.low_confidence,
                              'a dash alone among the row\'s amounts: a speck read as one?')

    # ---------------------------------------------------------------- rules
    def rules(self) -> None:
        for rule in self.template.rules:
            RULES[rule.type](self, rule)

    def required(self, rule: Rule) -> None:
        for pattern in rule.paths:
            for path in expand(self.form, pattern):
                if not _norm(self.form.get(path)):
                    self.flag(path, FlagReason.missing, 'required cell is empty')

    def same_or_apart(self, rule: Rule) -> None:
        values = {path: _norm(self.form.get(path)) for path in rule.paths}
        for path, value in values.items():
            for other, known in values.items():
                if other == path or not value or not known or value == known:
                    continue
                label = next((h.label for h in self.template.header if h.key == other), other)
                if one_character_off(value, known):
                    # The department and the implementing unit are the same body on 3
                    # forms in 4, and wholly other ones on the rest.
                    self.flag(path, FlagReason.low_confidence,
                              f'one character off {label} {known!r}: one of the two misread?')
                elif one_character_lost(value, known):
                    # ('台区科学技术和信息化局' beside '丰台区科学技术和信息化局': a worn 丰
                    # lost, or a speck read into the other.)
                    self.flag(path, FlagReason.low_confidence,
                              f'one character more or less than {label} {known!r}: one lost or added?')
                elif len(known) >= SAME_OR_APART_TAIL and len(value) > len(known) and value.endswith(known):
                    self.flag(path, FlagReason.structure,
                              f'ends with {label} {known!r}: that cell read into this one (the rule between lost)?')

    def ratio(self, rule: Rule) -> None:
        for row in self.rows(rule):
            paths = [f'{row}.{rule.value}', f'{row}.{rule.numerator}', f'{row}.{rule.denominator}']
            rate, numerator, denominator = (self.num(p) for p in paths)
            if not (rate and numerator and denominator) or denominator.value <= 0:
                continue
            expected = numerator.value / denominator.value * 100
            shown = rate.value if rate.percent else rate.value * 100
            unit = Decimal(1).scaleb(-rate.decimals) if rate.percent else Decimal(1).scaleb(-rate.decimals + 2)
            if abs(shown - expected) > unit:
                self.rule(paths, f'rate {self.form.get(paths[0])} but {rule.numerator} / {rule.denominator} '
                                 f'= {expected:.2f}%')
            elif shown >= 100 and numerator.value < denominator.value:
                # Auditors read 100% as all of it: rounding 99.6% up hides what was not spent.
                self.rule(paths, f'rate {self.form.get(paths[0])} but only {numerator.value} of '
                                 f'{denominator.value} ({expected:.2f}%)')

    def not_greater(self, rule: Rule) -> None:
        for row in self.rows(rule):
            value, limit = self.num(f'{row}.{rule.value}'), self.num(f'{row}.{rule.limit}')
            if value and limit and value.value > limit.value:
                self.rule([f'{row}.{rule.value}', f'{row}.{rule.limit}'],
                          f'{rule.value} {value.value} exceeds {rule.limit} {limit.value}')

    def product(self, rule: Rule) -> None:
        for row in self.rows(rule):
            value, factor = self.num(f'{row}.{rule.value}'), self.num(f'{row}.{rule.factor}')
            expected = self.product_of(row, rule)
            if value and factor and expected is not None:
                tolerance = max(Decimal(1).scaleb(-value.decimals), factor.value * Decimal('0.01'))
                if abs(value.value - expected) > tolerance:
                    self.rule([f'{row}.{rule.value}', f'{row}.{rule.factor}', f'{row}.{rule.rate}'],
                              f'{rule.value} {value.value} but {rule.factor} x {rule.rate} = {expected:.2f}')

    def product_of(self, row: str, rule: Rule) -> Optional[Decimal]:
        """factor x rate, the rate capped (a funds score is weight x execution rate, at
        most the weight)."""
        factor, rate = self.num(f'{row}.{rule.factor}'), self.num(f'{row}.{rule.rate}')
        if not (factor and rate):
            return None
        r = rate.value / 100 if rate.percent else rate.value
        return factor.value * min(r, Decimal(str(rule.cap)))

    def sum_equals(self, rule: Rule) -> None:
        """total = sum of parts. A part printed empty (or as a dash) counts as printed:
        a total that only adds up if an empty cell held a value is flagged, beside the
        missing flag of that cell. One part unreadable (flagged by itself): the total
        still says what it must be, and a value no row could hold breaks the sum too."""
        total_path = rule.total
        total = self.num(total_path)
        if total is None:
            # No total to check against; the usual one still says whether rows are lost.
            parts_sum = _parts_sum(self.form, rule)
            if parts_sum is not None:
                self.short_of_usual(rule, parts_sum)
            self.unconfirmed_rows(rule, parts_sum)
            return
        parts = [p for pattern in rule.parts for p in expand(self.form, pattern)]
        empty = [p for p in parts if not _norm(self.form.get(p)) or is_dash(self.form.get(p))]
        values = {p: self.num(p) for p in parts if p not in empty}
        unknown = [p for p, v in values.items() if v is None]
        known_sum = sum((v.value for v in values.values() if v is not None), Decimal(0))
        name = total_path.rsplit('.', 1)[-1]
        if not unknown:
            if known_sum != total.value:
                # Empty parts explain a sum short of the total; the parts read coming to
                # more than it already, one of them (or the total) is misread as well.
                suspects = empty if empty and known_sum < total.value else \
                    self.misread_part(total_path, total, values, known_sum, rule)
                why = f' ({len(empty)} part(s) empty)' if empty else ''
                self.rule([total_path] + suspects, f'{name}s add up to {known_sum}{why}, total says {total.value}')
                if rule.usual_total and total.value != Decimal(rule.usual_total):
                    self.short_of_usual(rule, known_sum)
        elif len(unknown) == 1:
            implied = total.value - known_sum
            why = self.impossible(unknown[0], name, implied)
            if why:
                self.rule([total_path] + parts, f'{unknown[0]} is unreadable; for the total {total.value} it '
                                                f'would have to be {implied}, but {why}')

    def rows_summed(self, rule: Rule):
        """The kind's table when the rule sums its rows to a usual total (the weights to
        100): what a sum off that total says rows were lost from; None otherwise."""
        table = self.template.table
        if not rule.usual_total or table is None:
            return None
        return table if any(pattern.startswith(table.key + '.') for pattern in rule.parts) else None

    def short_of_usual(self, rule: Rule, known_sum: Decimal) -> None:
        """Parts that come to less than the kind's usual total (weights short of 100)
        while the total row is lost or does not read that total either: a row was lost
        or merged into the total row (whose cells then hold that row's values), and a
        lost row has no field of its own to flag. Its table is flagged as a whole."""
        table = self.rows_summed(rule)
        if table is None or known_sum >= Decimal(rule.usual_total):
            return
        if self.speck_point_part(rule, known_sum):
            return
        self.flag(table.key, FlagReason.structure,
                  f'the {rule.total.rsplit(".", 1)[-1]}s come to {known_sum}, short of the usual '
                  f'{rule.usual_total}: a row may be lost or merged into another')

    def unconfirmed_rows(self, rule: Rule, parts_sum: Optional[Decimal]) -> None:
        """With the total row lost, parts that come to more than the kind's usual total
        or cannot be added up (a part unreadable) leave the table's rows unconfirmed:
        rows merged by a lost rule read as one (its weight '10101010100', the total
        row's cells in it), and the rows it stands for have no field of their own to
        flag. Its table is flagged as a whole (short of the usual total: short_of_usual)."""
        table = self.rows_summed(rule)
        if table is None:
            return
        rows = self.form.get(table.key) or []
        if not rows:
            return          # flagged missing already
        usual = Decimal(rule.usual_total)
        name = rule.total.rsplit('.', 1)[-1]
        if parts_sum is None:
            why = f'the {name}s cannot be added up (one is unreadable)'
        elif parts_sum > usual:
            whole = [i for i in range(len(rows)) if (n := self.num(f'{table.key}.{i}.{name}')) is not None
                     and n.value == usual == parts_sum - usual]
            if whole:
                # The total row read as one of the table's (its label lost in noise):
                # the others come to the usual total, so no row is lost.
                self.flag(f'{table.key}.{whole[-1]}', FlagReason.structure,
                          f'its {name} {usual} is what the other rows come to: the total row read as a row?')
                return
            why = f'the {name}s come to {parts_sum}, over the usual {rule.usual_total}'
        else:
            return
        self.flag(table.key, FlagReason.structure,
                  f'{why} and the total row is lost: rows may be lost or merged into another')

    def speck_point_part(self, rule: Rule, known_sum: Decimal) -> Optional[str]:
        """The one part read with a point that the kind's usual total says is a speck
        ('1.5' for a weight of 15 when the weights come to 86.5 and not 100): it, not a
        lost row or every part, is what the sum is off by. None when no part is."""
        if not rule.usual_total:
            return None
        usual = Decimal(rule.usual_total)
        for path in (p for pattern in rule.parts for p in expand(self.form, pattern)):
            value, text = self.num(path), _norm(self.form.get(path))
            if value is None or '.' not in text:
                continue
            without = parse_number(text.replace('.', ''))
            if without is not None and known_sum - value.value + without.value == usual:
                return path
        return None

    def misread_part(self, total_path: str, total: Number, values: dict, known_sum: Decimal,
                     rule: Rule) -> list[str]:
        """The parts to blame, beside the total, for a sum that is off: none when the
        parts come to the kind's usual total (weights to 100: the total cell is the one
        misread); the one part whose point the usual total says is a speck
        (speck_point_part); the one part whose reading the sum says may be a digit slip of it
        ('1515' for 15: a digit doubled, dropped or changed), when exactly one is; else
        none when the total's reading may be a slip of the sum ('183' for 83); else
        every part. A form printed with a wrong total has no such part and keeps them all."""
        if rule.usual_total and known_sum == Decimal(rule.usual_total):
            return []
        speck = self.speck_point_part(rule, known_sum)
        if speck:
            return [speck]
        suspects = []
        for path, number in values.items():
            implied = total.value - (known_sum - number.value)
            # (A part the sum would need to be more than its row allows, a score over
            # its weight, is no suspect: '0' for a 10 among scores equal to their weights.)
            if implied > 0 and _slip(self.form.get(path), implied) \
                    and not self.impossible(path, path.rsplit('.', 1)[-1], implied):
                suspects.append(path)
        if len(suspects) == 1:
            return suspects         # (the total is blamed with it)
        if _slip(self.form.get(total_path), known_sum):
            return []               # one slip in the total explains it; many parts could
        return list(values)

    def impossible(self, path: str, key: str, implied: Decimal) -> Optional[str]:
        """Why a row's `key` (weight or score) cannot be `implied`, or None if it could:
        the kind's not_greater and product rules on that row say what it may be."""
        if implied < 0 or (key == 'weight' and implied == 0):
            return f'a {key} cannot be {implied}'
        row = path.rsplit('.', 1)[0]
        for rule in self.template.rules:
            if not any(row in expand(self.form, pattern) for pattern in rule.rows):
                continue
            if rule.type == 'not_greater' and rule.value == key:
                limit = self.num(f'{row}.{rule.limit}')
                if limit and implied > limit.value:
                    return f"the row's {rule.limit} is {limit.value}"
            if rule.type == 'not_greater' and rule.limit == key:
                value = self.num(f'{row}.{rule.value}')
                if value and implied < value.value:
                    return f"the row's {rule.value} is {value.value}"
            if rule.type == 'product' and rule.value == key:
                expected, factor = self.product_of(row, rule), self.num(f'{row}.{rule.factor}')
                if expected is not None and abs(implied - expected) > max(Decimal(1), factor.value * Decimal('0.01')):
                    return f'{rule.factor} x {rule.rate} = {expected:.2f}'
        return None

    def rows(self, rule: Rule) -> list[str]:
        return [row for pattern in rule.rows for row in expand(self.form, pattern)]

    def rule(self, paths: list[str], detail: str) -> None:
        for path in paths:
            self.flag(path, FlagReason.arithmetic, detail)


RULES = {'required': Checker.required, 'ratio': Checker.ratio, 'not_greater': Checker.not_greater,
         'product': Checker.product, 'sum_equals': Checker.sum_equals, 'same_or_apart': Checker.same_or_apart}


def _slip(read, value: Decimal) -> bool:
    """Whether `read` could be `value` printed and misread by one or two characters
    inserted, dropped or changed (edit distance <= 2, against a number of 2+ digits)."""
    a = _norm(read)
    b = format(value.normalize(), 'f') if value == value.to_integral() else str(value)
    if not a or a == b or len(b.replace('.', '')) < 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


# A 。 right before a Chinese character inside a text of fewer characters than this
# ends no sentence (a short numbered list, '1.完成运维。2.完成培训。', goes on with a
# number): of the 35,589 text values of the generated truths, none is such a text; the
# texts that hold two sentences are 31 characters and longer.
SHORT_TEXT_CHARS = 20
_STOP_BEFORE_HAN = re.compile('。[\u3400-\u9fff]')


def _stop_inside_short_text(value: str) -> bool:
    text = _norm(value)
    return len(text) < SHORT_TEXT_CHARS and bool(_STOP_BEFORE_HAN.search(text))


# A name this short with no sentence mark inside is no sentence: of the generated
# truths' 937 indicator names none this short ends with 。, nor any of the seeds' values
# (a result may: '已完成。').
SHORT_NAME_CHARS = 12
_SENTENCE_MARK = re.compile('[，、；,;。：:]')


def _stop_closing_a_name(value: str) -> bool:
    text = _norm(value)
    return 1 < len(text) < SHORT_NAME_CHARS and text.endswith('。') and not _SENTENCE_MARK.search(text[:-1])


# Prose (column kind 'prose': goals, a deviation's reasons) of at least this many
# characters with a comma or enumeration mark inside is sentences, which close with 。
# (or ！, ？, ；, ……): of such values in the generated truths of the tuning sets, 285 of
# 299 close so; a recogniser loses a small closing mark more often than any other.
PROSE_CHARS = 10
_INNER_SENTENCE_MARK = re.compile('[，、；,;]')
_SENTENCE_CLOSE = '。！？；…!?;'


# A numbered item ('2.', '3、') right after a Chinese character: in the seeds' and the
# tuning truths' 17,816 values, once (a list printed without marks, '网费 3. 丰体').
_ITEM_AFTER_HAN = re.compile(r'[\u3400-\u9fff]\d{1,2}[.．、](?=[\u3400-\u9fff])')


def _unclosed_sentence(value: str) -> Optional[str]:
    """Which sentence of the prose does not close, if one does not: its last, or the
    one before a numbered item ('取得良好效果2.已完成')."""
    text = _norm(value)
    if len(text) >= PROSE_CHARS and text[-1] not in _SENTENCE_CLOSE and _INNER_SENTENCE_MARK.search(text[:-1]):
        return 'its last sentence does not close'
    if _ITEM_AFTER_HAN.search(text):
        return 'a numbered item follows a sentence that does not close'
    return None


def printed_names(template, path: str) -> set[str]:
    """The names the field may print (template.printed_names), as compared."""
    return {_norm(name) for name in template.printed_names(path)}


# A table of at least this many rows whose column is empty in half of them says so.
EMPTY_COLUMN_ROWS = 3


def check_form(form: Form, index: int) -> list[Flag]:
    checker = Checker(form, index)
    checker.fields()
    checker.labels_in_values()
    checker.blocks()
    checker.empty_columns()
    checker.lone_money_dashes()
    checker.rules()
    return checker.flags


def check_forms(forms: list[Form]) -> list[Flag]:
    flags = []
    for index, form in enumerate(forms):
        flags.extend(check_form(form, index))
    return flags


# ------------------------------------------------------------------ page quality

@dataclass(frozen=True)
class QualityLimits:
    """Where a page stops being good. Chosen with benchmarks/residual_rate.py, which
    prints the silent error rate of each grade over generated clean to rough scans."""
    # Isolated specks per cm² (a clean scan has ~0; a dusty photocopy 1-5).
    fair_speckle: float = 1.5
    rough_speckle: float = 8.0
    # Print darkness against the paper (black on white ~0.8).
    rough_contrast: float = 0.35
    unreadable_contrast: float = 0.12
    # Mean inked share of the lattice walls (solid rules ~0.95+).
    fair_rules: float = 0.93
    rough_rules: float = 0.8
    # Share of the page's text lines the recogniser was unsure of (< LINE_SURE).
    fair_unsure: float = 0.06
    rough_unsure: float = 0.15
    unreadable_unsure: float = 0.5
    # ... counted on at least this many lines: a continuation page holding only its
    # total row (3 values and a seal's remnants read as 4 unsure marks) says little.
    unsure_min_lines: int = 15
    # ... unless its tables hold at least this many cells: a form's page whose print
    # went unread (a 200 x 100 dpi fax, 89 cells and 9 lines read, 8 of them unsure,
    # was graded fair; held-out rough 4391) is no total row alone.
    unsure_many_cells: int = 30


LINE_SURE = 0.9
# A line at least this much under a seal's ink reads the seal's own lettering or print
# through it: how unsure the recogniser was of it says nothing of the page's print (two
# seals over a continuation page's one row made it 'unreadable'). Such values carry their
# own flag (the layout's sealed-text check).
SEALED_LINE = 0.5
GRADES = ('good', 'fair', 'rough', 'unreadable')


def grade_page(result: PageResult, limits: QualityLimits = QualityLimits()) -> PageQuality:
    """The page's quality record from what preprocess, grid and OCR measured on it."""
    m = result.measures
    lines = [line for cell in result.cells for line in cell.lines if (line.sealed or 0.0) < SEALED_LINE]
    unsure = (sum(line.confidence < LINE_SURE for line in lines) / len(lines)) if lines else 0.0
    quality = PageQuality(page=result.number, turned_deg=int(m.get('turned_deg', 0)),
                          skew_deg=float(m.get('skew_deg', result.angle)),
                          speckle_per_cm2=float(m.get('speckle_per_cm2', 0.0)),
                          contrast=float(m.get('contrast', 0.0)), stroke_mm=float(m.get('stroke_mm', 0.0)),
                          rule_continuity=float(m.get('rule_continuity', 1.0)),
                          bilevel=bool(m.get('bilevel', False)), halftone=bool(m.get('halftone', False)),
                          unsure_lines=round(unsure, 3))
    grade, reasons = 0, []

    def worse(level: int, reason: str) -> None:
        nonlocal grade
        grade = max(grade, level)
        reasons.append(reason)

    if not result.grid.tables:
        worse(3, NO_TABLE_REASON)
    if quality.contrast and quality.contrast < limits.unreadable_contrast:
        worse(3, f'print too faint (contrast {quality.contrast:.2f})')
    elif quality.contrast and quality.contrast < limits.rough_contrast:
        worse(2, f'faint print (contrast {quality.contrast:.2f})')
    cells = sum(len(table.cells) for table in result.grid.tables)
    few = len(lines) < limits.unsure_min_lines and cells < limits.unsure_many_cells
    if unsure >= limits.unreadable_unsure and not few:
        worse(3, f'{unsure:.0%} of the text lines read unsure')
    elif unsure >= limits.rough_unsure and not few:
        worse(2, f'{unsure:.0%} of the text lines read unsure')
    elif unsure >= limits.fair_unsure:
        worse(1, f'{unsure:.0%} of the text lines read unsure')
    if quality.speckle_per_cm2 >= limits.rough_speckle:
        worse(2, f'heavy speckle ({quality.speckle_per_cm2:.1f}/cm²)')
    elif quality.speckle_per_cm2 >= limits.fair_speckle:
        worse(1, f'speckle ({quality.speckle_per_cm2:.1f}/cm²)')
    if result.grid.tables:
        if quality.rule_continuity < limits.rough_rules:
            worse(2, f'broken rules ({quality.rule_continuity:.0%} solid)')
        elif quality.rule_continuity < limits.fair_rules:
            worse(1, f'worn rules ({quality.rule_continuity:.0%} solid)')
    if quality.bilevel:
        worse(1, '1-bit scan')
    if quality.halftone:
        worse(1, 'dithered (halftone) scan')
    quality.grade, quality.reasons = GRADES[grade], reasons
    return quality


def check_pages(forms: list[Form], quality: list[PageQuality], flags: list[Flag]) -> list[Flag]:
    """Flags that come from how readable the pages were.

    * Every field read on an unreadable page, with the page's reasons: a value read
      there is not to be trusted, however sure the recogniser was, unless more than the
      recogniser vouches for it (a sum that holds as read, a name its column prints);
      and the row blocks read there as a whole, unless their rows add up to the kind's
      usual total.
    * The blocks (funds, indicators, total) of a form on a rough page whose table was
      matched with doubt (several structure flags, or no indicator rows or total
      found): those with doubt in them. On such a page rows are lost or merged, and a
      lost row has no field left to flag. (Totals that do not add up are flagged on
      every part already.)"""
    grades = {q.page: q for q in quality}
    bad = {page: q for page, q in grades.items() if q.grade == 'unreadable'}
    out = []
    for index, form in enumerate(forms):
        row_blocks = [b.key for b in (form.template.rows, form.template.table) if b]
        unread_blocks = {}
        vouched = sum_confirmed(form) if bad else set()
        for path, source in form.sources.items():
            page = bad.get(source.page)
            if page is None:
                continue
            if path.split('.', 1)[0] in row_blocks:
                unread_blocks.setdefault(path.split('.', 1)[0], page)
            if path in vouched or _norm(form.get(path)) in printed_names(form.template, path):
                # Vouched for by more than the recogniser: a sum that holds as read,
                # or one of the few names its column prints.
                continue
            out.append(Flag(form=index, field=path, value=_as_text(form.get(path)), reason=FlagReason.page_quality,
                            page=source.page, bbox=source.bbox,
                            detail='page too rough to read: ' + '; '.join(page.reasons)))
        # Rows that add up to the kind's usual total lost none of them: the fields read
        # on the page carry their own flags.
        complete = rows_add_up(form) or rows_complete(form) or no_row_lost(form)
        for block, page in ({} if complete else unread_blocks).items():
            # Rows read there may be garbled past knowing which printed row they are,
            # or lost or merged: the block's rows as a whole are in doubt.
            out.append(Flag(form=index, field=block, reason=FlagReason.page_quality, page=page.page,
                            detail=f'rows of the {block} block lie on a page too rough to read '
                                   f'({"; ".join(page.reasons)}): rows there may be lost, merged or garbled'))
        worn = [grades[p] for p in form.pages if p in grades and grades[p].grade != 'good']
        rough = [q for q in worn if q.grade in ('rough', 'unreadable')]
        mine = [f for f in flags if f.form == index]
        # The funds rows under the total print a dash for weight and score; on a worn
        # page a faint dash is lost more often than a cell is left blank, and on any
        # page a small hyphen alone in its cell can go as a speck (or under a seal), or
        # fade past finding with the print's thin strokes: empty beside a dash in the
        # same row, between dashes in its column, in a row holding values (measured:
        # every row printed with values prints its dashes), or after such a row lost
        # all of its dashes, it was printed. So was it in a blank row: every one of the
        # 70 blank 上年结转资金 and 其他资金 rows of the published forms prints its
        # dashes (the generator leaves 6% of them without; a light copy's faint dashes
        # were lost unflagged from blank rows on a page graded good).
        block = form.template.rows
        dashed = block.dash_columns if block else []
        valued = [c.key for c in block.columns if c.numeric and not c.dash_after_first] if block else []
        n_rows = len(form.get(block.key) or []) if block else 0
        lost_dash = False
        for row in range(1, n_rows):
            beside_dash = any(is_dash(form.get(f'{block.key}.{row}.{key}')) for key in dashed)
            with_values = any(form.get(f'{block.key}.{row}.{key}') not in (None, '') and
                              not is_dash(form.get(f'{block.key}.{row}.{key}')) for key in valued)
            for key in dashed:
                path = f'{block.key}.{row}.{key}'
                between_dashes = 1 < row < n_rows - 1 and all(is_dash(form.get(f'{block.key}.{other}.{key}'))
                                                              for other in (row - 1, row + 1))
                if form.get(path) not in (None, ''):
                    continue
                why = f'on a {worn[0].grade} page' if worn else \
                    'beside a dash in its row' if beside_dash else \
                    'between dashes in its column' if between_dashes else \
                    'in a row holding values' if with_values else \
                    'below a row that lost its dashes' if lost_dash else 'in a blank row'
                # A row with values and none of its dashes: this print loses dashes
                # (faded past finding), and a blank row after it may have lost its own.
                lost_dash = lost_dash or with_values and not beside_dash
                if not any(f.field == path for f in mine):
                    source = form.sources.get(path) or FieldSource()
                    out.append(Flag(form=index, field=path, value=None, reason=FlagReason.missing,
                                    page=source.page or (worn[0].page if worn else None), bbox=source.bbox,
                                    detail=f'empty {why} where the form prints a dash'))
        if not rough:
            continue
        # Cells matched with doubt, each once: one merged cell flags every row it spans.
        structure = len({(f.page, tuple(f.bbox)) if f.bbox else id(f)
                         for f in mine if f.reason == FlagReason.structure})
        blocks = [b.key for b in (form.template.rows, form.template.table, form.template.total) if b]
        lost = [f.field for f in mine if f.reason == FlagReason.missing and f.field in blocks]
        # Doubt about the table's structure is settled when its rows add up to its
        # printed total: a lost or merged row takes its weight and score with it.
        complete = rows_add_up(form) or rows_complete(form) or no_row_lost(form)
        if lost or (structure >= STRUCTURE_DOUBT and not complete):
            why = f'no {", ".join(lost)} found' if lost else f'{structure} cells matched with doubt'
            # The blocks the doubt is about (a lost block, or one whose cells were
            # matched with doubt; the table when the doubt lies elsewhere): a row lost
            # there has no field left to flag, the header and goals stand apart. Rows
            # whose weights come to the kind's usual total lost none of them: their
            # cells matched with doubt carry their own flags.
            doubted = [b for b in blocks if b in lost or (not complete and any(
                f.reason == FlagReason.structure and (f.field == b or f.field.startswith(b + '.')) for f in mine))]
            table = form.template.table
            total = form.template.total
            if table and total and total.key in lost and not complete and table.key not in doubted:
                # No total row, and the rows read do not come to the usual total: the
                # rows lost with it were the table's last (a rough 1-bit page lost its
                # last two rows and its 总分 row, no field left to flag).
                doubted.append(table.key)
            if not doubted and table:
                doubted = [table.key]
            for block in doubted or ['']:
                out.append(Flag(form=index, field=block, reason=FlagReason.page_quality, page=rough[0].page,
                                detail=f'rough page ({"; ".join(rough[0].reasons)}) and {why}: rows may be '
                                       f'lost or merged; check {"the " + block + " block" if block else "the whole form"}'))
    return out


def settle_whole_form_doubt(forms: list[Form], flags: list[Flag]) -> list[Flag]:
    """The flags with each whole-form structure flag (layout: a form stops short of its
    total row and the page after it was turned away, so rows may be lost anywhere after
    the last one read) narrowed to the total row where the form's rows add up to the
    kind's usual total as read: no row with a weight was lost, the turned-away page
    held the total row alone (a lone 总分 row whose broken rules made no table)."""
    out = []
    for flag in flags:
        form = forms[flag.form] if 0 <= flag.form < len(forms) else None
        if flag.field == '' and flag.reason == FlagReason.structure and form is not None \
                and form.template.total is not None and rows_complete(form):
            total = form.template.total
            flag = flag.model_copy(update={
                'field': total.key,
                'detail': flag.detail + f'; its rows add up to the usual total, so no row was lost: '
                                        f'only the {total.label} row is in doubt'})
        out.append(flag)
    return out


# Structure flags on one form that, on a rough page, put its whole table in doubt.
STRUCTURE_DOUBT = 3


def rows_complete(form: Form) -> bool:
    """The parts of every sum rule that has a usual total come to it as read (each
    part a number, a dash or empty): no row with a weight was lost or merged, whether
    or not the total row itself was read. False for a kind without such a rule."""
    rules = [rule for rule in form.template.rules if rule.type == 'sum_equals' and rule.usual_total]
    return bool(rules) and all(_parts_sum(form, rule) == Decimal(rule.usual_total) for rule in rules)


def no_row_lost(form: Form) -> bool:
    """A sum rule holds as read (the scores add up to the printed total) and the parts
    of every rule with a usual total come to it or more (the weights): a lost or merged
    row takes its weight and its score with it, leaving both short. (The published
    form whose weights come to 190, a row's 10 printed 100, has its scores add up.)"""
    sums = [rule for rule in form.template.rules if rule.type == 'sum_equals']
    if not any(_sum_holds(form, rule) for rule in sums):
        return False
    usual = [rule for rule in sums if rule.usual_total]
    return bool(usual) and all((_parts_sum(form, rule) or Decimal(0)) >= Decimal(rule.usual_total)
                               for rule in usual)


def _parts_sum(form: Form, rule) -> Optional[Decimal]:
    """The sum of a rule's parts as read (an empty part or a dash counts as printed);
    None when a part is not a number or there are fewer than two."""
    parts = [p for pattern in rule.parts for p in expand(form, pattern)]
    if len(parts) < 2:
        return None
    added = Decimal(0)
    for path in parts:
        value = form.get(path)
        if not _norm(value) or is_dash(value):
            continue
        number = parse_number(value)
        if number is None:
            return None
        added += number.value
    return added


def rows_add_up(form: Form) -> bool:
    """Every sum rule of the form's kind holds as read: the total and each part read as
    numbers (an empty part or a dash counts as printed), and they add up. False for a
    kind without sum rules."""
    sums = [rule for rule in form.template.rules if rule.type == 'sum_equals']
    return bool(sums) and all(_sum_holds(form, rule) for rule in sums)


def _sum_holds(form: Form, rule) -> bool:
    """The sum rule's total read as a number and its parts adding up to it as read."""
    total = parse_number(form.get(rule.total))
    return total is not None and _parts_sum(form, rule) == total.value


def sum_confirmed(form: Form) -> set[str]:
    """The numbers of the form that a sum rule holding as read vouches for: its total
    and each part read as a number. One misread digit breaks the sum (two misreads
    that cancel out are past worrying about)."""
    confirmed = set()
    for rule in form.template.rules:
        if rule.type != 'sum_equals' or not _sum_holds(form, rule):
            continue
        confirmed.add(rule.total)
        confirmed.update(p for pattern in rule.parts for p in expand(form, pattern)
                         if parse_number(form.get(p)) is not None)
    return confirmed


def settle_confirmed_numbers(forms: list[Form], flags: list[Flag]) -> list[Flag]:
    """The flags without the recogniser's doubt (low confidence, engines that disagree,
    a mark taken off the reading) about weights and scores that their sums vouch for:
    the rows add up to the total as read, so each was read right whatever the
    recogniser's confidence (measured on the rough tuning set 9494: 48 weights and
    scores flagged for OCR doubt alone, every one right; about 20 stand in sums that
    hold and lose the flag. The layout's flags too, since: a speck read as a point at
    a weight's end, '20.', taken off and flagged unparsed, was 18 times in 18 right on
    the tuning sets rough 8123, 3571 and hard 9494)."""
    confirmed = [sum_confirmed(form) for form in forms]
    return [flag for flag in flags
            if not (flag.reason in (FlagReason.low_confidence, FlagReason.unparsed) and 0 <= flag.form < len(forms)
                    and flag.field in confirmed[flag.form])]


def _as_text(value) -> Optional[str]:
    return None if value is None else str(value)


# The fast (tiny) model's own misreads, which the small model that re-read the line
# does not share: a speck at either end of a number read as a mark ('·100%', "23'",
# '15.'), ≥ and ≤ read as > and <, and a percent sign read as digits ('1000' for
# '100%', '8606' for '86%'). Measured on the tuning scans (rough 8123, 3571; hard 9494):
# 35 fields flagged for such a disagreement alone, all of them read right.
_FAST_SPECK_MARKS = "·.'`°,，:：;；)）(（∵∴*"
_PERCENT_AS_DIGITS = ('0', '6', '8', '9', '06', '08', '00', '60', '69', '96')


def fast_model_slip(kept: str, fast: str) -> bool:
    """The fast model's reading of a number differs from the kept one only by a slip of
    its own (above): the disagreement says nothing about the kept reading."""
    if not kept or not any(ch.isdigit() for ch in kept):
        return False
    if fast.strip(_FAST_SPECK_MARKS) == kept and number_shaped(kept):
        return True
    turned = fast.replace('>', '≥').replace('<', '≤')
    if turned == kept and ('≥' in kept or '≤' in kept):
        return True
    if kept.endswith('%'):
        if fast.startswith(kept) and len(fast) == len(kept) + 1:
            return True         # a speck after the percent sign, which ends a number
        stem = kept[:-1]
        core = turned.strip(_FAST_SPECK_MARKS)
        if any(core == stem + tail for tail in _PERCENT_AS_DIGITS):
            return True
    return False
