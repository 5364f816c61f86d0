"""Line recognition engines side by side on rendered line crops whose text is known.

    python benchmarks/compare_engines.py [--lines 200] [--engines small,cascade,paddleocr]
                                         [--threads N] [--seed 7] [--show 10] [--hard]

Renders form-like lines (Chinese phrases, amounts with decimals, percentages, ≥90%
targets) in every installed CJK font, lightly blurred and noisy like a 200 dpi scan,
cropped with the pipeline's padding (--hard: smaller, blurrier, JPEG'd); then, per engine, times one `recognize()` call
over all of them (as `ocr.read_page` does for a page, after a warm-up) and prints
seconds per line (wall and CPU) and exact-match accuracy, overall and per kind of line.

Engines: the names `extractor.ocr.make_recognizer` knows ('small' = PPOCRRecognizer,
'tiny', 'cascade') plus 'paddleocr' (extractor.ocr_paddle.PaddleRecognizer, optional
extra). One that cannot be loaded here is reported and skipped.
"""
import argparse
import os
import random
import sys
import time
from collections import defaultdict

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import ocr  # noqa: E402

# (file, family of the face to use: the Simplified Chinese one in Noto's collections)
FONT_FILES = [
    ('/usr/share/fonts/truetype/arphic/uming.ttc', 'AR PL UMing CN'),
    ('/usr/share/fonts/truetype/arphic/ukai.ttc', 'AR PL UKai CN'),
    ('/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYi Zen Hei'),
    ('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', 'WenQuanYi Micro Hei'),
    ('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'Noto Sans CJK SC'),
    ('/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 'Noto Serif CJK SC'),
]

PHRASES = [
    '项目支出绩效自评表', '项目名称', '主管部门', '实施单位', '项目资金', '年度资金总额',
    '其中：当年财政拨款', '上年结转资金', '其他资金', '年度总体目标', '实际完成情况',
    '绩效指标', '一级指标', '二级指标', '三级指标', '年度指标值', '实际完成值', '分值',
    '得分', '偏差原因分析及改进措施', '产出指标', '数量指标', '质量指标', '时效指标',
    '成本指标', '效益指标', '经济效益指标', '社会效益指标', '生态效益指标',
    '可持续影响指标', '满意度指标', '服务对象满意度指标', '总分', '预算执行率',
    '全年预算数', '全年执行数', '丰台区科学技术和信息化局', '北京市财政局',
    '按计划完成', '资金到位率', '培训人次', '验收合格率', '受益群众满意度',
    '政策知晓率', '设备完好率', '2024年度', '执行率', '完成及时率',
]


def _number(rng: random.Random) -> str:
    value = rng.uniform(0.01, 10 ** rng.randint(1, 6))
    text = f'{value:.{rng.choice([1, 2, 2, 2, 4, 6])}f}'
    if rng.random() < 0.3 and value >= 1000:
        whole, frac = text.split('.')
        text = f'{int(whole):,}.{frac}'
    return text


def _percent(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f'{rng.randint(1, 100)}%'
    return f'{rng.uniform(50, 100):.{rng.choice([1, 2])}f}%'


def _target(rng: random.Random) -> str:
    sign = rng.choice(['≥', '≥', '≤'])
    return f'{sign}{rng.choice([80, 85, 90, 95, 98, 100, 5, 10])}%'


def make_truths(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text): about 40% phrases, 30% decimals, 20% percentages, 10% targets."""
    out = []
    for i in range(n):
        r = i % 10
        if r < 4:
            out.append(('phrase', PHRASES[(i // 10 * 4 + r) % len(PHRASES)]))
        elif r < 7:
            out.append(('decimal', _number(rng)))
        elif r < 9:
            out.append(('percent', _percent(rng)))
        else:
            out.append(('target', _target(rng)))
    return out


def available_fonts() -> list[tuple[str, int]]:
    fonts = []
    for path, family in FONT_FILES:
        if not os.path.exists(path):
            continue
        for index in range(8):
            try:
                face = ImageFont.truetype(path, 12, index=index)
            except OSError:
                break
            if face.getname()[0] == family:
                fonts.append((path, index))
                break
    return fonts


def render(text: str, font: tuple[str, int], size: int, rng: random.Random, hard: bool = False) -> np.ndarray:
    """A line as the pipeline crops it: ink box plus its padding, gray paper, dark ink,
    slight blur and noise; `hard`: a poor scan (more blur and noise, JPEG at quality 35)."""
    face = ImageFont.truetype(font[0], size, index=font[1])
    x0, y0, x1, y1 = face.getbbox(text)
    h = y1 - y0
    pad_y, pad_x = max(3, int(0.2 * h)), max(4, int(0.3 * h))
    paper, ink = rng.randint(225, 250), rng.randint(20, 80)
    img = Image.new('L', (x1 - x0 + 2 * pad_x, h + 2 * pad_y), paper)
    ImageDraw.Draw(img).text((pad_x - x0, pad_y - y0), text, font=face, fill=ink)
    sigma, noise = (rng.uniform(0.7, 1.2), 12) if hard else (rng.uniform(0.3, 0.8), 5)
    arr = cv2.GaussianBlur(np.asarray(img).astype(np.float32), (0, 0), sigma)
    arr += np.random.default_rng(rng.randint(0, 2 ** 31)).normal(0, noise, arr.shape)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if hard:
        ok, buf = cv2.imencode('.jpg', arr, [cv2.IMWRITE_JPEG_QUALITY, 35])
        arr = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return arr


def load_engine(name: str, threads: int):
    if name == 'paddleocr':
        from extractor.ocr_paddle import PaddleRecognizer
        return PaddleRecognizer(threads=threads)
    if name == 'small':
        return ocr.PPOCRRecognizer(threads=threads)
    os.environ.setdefault('EXTRACTOR_OCR_THREADS', str(threads))
    return ocr.make_recognizer(name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--lines', type=int, default=200)
    parser.add_argument('--engines', default='small,cascade,paddleocr')
    parser.add_argument('--threads', type=int, default=None, help='onnxruntime threads (default: as the pipeline)')
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--repeat', type=int, default=1, help='timed passes (the best is kept)')
    parser.add_argument('--show', type=int, default=10, help='misreads to list per engine')
    parser.add_argument('--hard', action='store_true',
                        help='a poor scan: text 14-20 px (about 150 dpi), more blur and noise, JPEG artefacts')
    args = parser.parse_args(argv)
    threads = args.threads or ocr._threads()

    rng = random.Random(args.seed)
    fonts = available_fonts()
    if not fonts:
        print('no CJK font installed (make setup installs them)', file=sys.stderr)
        return 1
    truths = make_truths(args.lines, rng)
    sizes = (14, 20) if args.hard else (22, 34)
    images = [render(text, fonts[i % len(fonts)], rng.randint(*sizes), rng, args.hard)
              for i, (_, text) in enumerate(truths)]
    kinds = sorted({k for k, _ in truths})
    print(f'{len(images)} lines, {len(fonts)} fonts ({", ".join(os.path.basename(p) for p, _ in fonts)}), '
          f'{threads} thread(s)' + (', hard (poor scan)' if args.hard else ''))

    header = f'{"engine":<10} {"load s":>7} {"s/line":>8} {"cpu s/l":>8} {"exact":>7} ' + ' '.join(f'{k:>8}' for k in kinds) + f' {"numeric":>8}'
    rows, misses = [], {}
    for name in [e.strip() for e in args.engines.split(',') if e.strip()]:
        t = time.perf_counter()
        try:
            engine = load_engine(name, threads)
        except Exception as err:   # an optional engine not installed here
            print(f'{name}: skipped ({type(err).__name__}: {err})')
            continue
        load = time.perf_counter() - t
        engine.recognize(images[:8])          # warm-up
        best = best_cpu = float('inf')
        for _ in range(max(1, args.repeat)):
            t, c = time.perf_counter(), time.process_time()
            readings = engine.recognize(images)
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - c)
        right = defaultdict(int)
        total = defaultdict(int)
        numeric_right = numeric_total = 0
        misses[name] = []
        for (kind, text), r in zip(truths, readings):
            total[kind] += 1
            if r.text == text:
                right[kind] += 1
            else:
                misses[name].append((text, r.text, r.confidence))
            if kind in ('decimal', 'percent'):
                numeric_total += 1
                numeric_right += int(r.numeric == text)
        exact = sum(right.values()) / len(truths)
        per_kind = ' '.join(f'{right[k] / total[k]:>8.1%}' for k in kinds)
        numeric = f'{numeric_right / numeric_total:>8.1%}' if numeric_total else f'{"-":>8}'
        rows.append(f'{name:<10} {load:>7.2f} {best / len(images):>8.4f} {best_cpu / len(images):>8.4f} '
                    f'{exact:>7.1%} {per_kind} {numeric}')

    print()
    print(header)
    for row in rows:
        print(row)
    print('\ns/line: wall time of one recognize() over all lines (best of --repeat); cpu s/l: process CPU'
          ' time, all threads (steadier on a shared machine)')
    print('exact: text == truth; numeric: the numeric-only reading == truth, on decimal and percent lines')
    for name, items in misses.items():
        if items and args.show:
            print(f'\n{name}: {len(items)} misread(s)')
            for truth, got, conf in items[:args.show]:
                print(f'  {truth!r:<28} -> {got!r}  ({conf:.3f})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
