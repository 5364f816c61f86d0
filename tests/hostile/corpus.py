"""Hostile and unlucky inputs: files an archive or an attacker may hand the extractor.

    python -m tests.hostile.corpus --out DIR [--count N] [--seed S] [--good PDF]

`write_corpus(folder, count, seed, good_pdf)` writes `count` files (the fixed kinds
first, then random variants: truncations and byte mutations of a good PDF, random
bytes under supported names) and returns what it wrote as Items (name as bytes, kind).
PDFs are written by hand here (small, exact: a page of 20000 pt, a page tree that
loops, a render bomb of nested form XObjects) or with pypdf (encryption).
Nothing in it is a real form except the good files, which must still be extracted.
"""
from __future__ import annotations

import argparse
import os
import random
import zlib
from dataclasses import dataclass
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD_PDF = os.path.join(ROOT, 'tests', 'data', 'samples', 'samples_clean.pdf')


@dataclass
class Item:
    name: bytes           # file name (bytes: some are not valid UTF-8)
    kind: str             # what it is, for reports
    good: bool = False    # a real form scan: must be extracted


# ------------------------------------------------------------------ hand-written PDFs

def pdf_bytes(objects: list[bytes], root: int = 1, trailer_extra: bytes = b'') -> bytes:
    """A PDF whose object i+1 is objects[i], with a correct cross-reference table."""
    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % number + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    for offset in offsets:
        out += b'%010d 00000 n \n' % offset
    out += (b'trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n'
            % (len(objects) + 1, root, trailer_extra, xref))
    return bytes(out)


def _stream(data: bytes, extra: bytes = b'') -> bytes:
    return b'<< /Length %d %s>>\nstream\n' % (len(data), extra) + data + b'\nendstream'


def one_page_pdf(width: float, height: float, content: bytes = b'0 0 m 10 10 l S',
                 resources: bytes = b'<< >>', more: Optional[list[bytes]] = None) -> bytes:
    """Catalog 1, Pages 2, Page 3, Contents 4, then `more` objects from 5 on."""
    return pdf_bytes([
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 4 0 R /Resources %s >>'
        % (width, height, resources),
        _stream(content),
        *(more or [])])


def zero_page_pdf() -> bytes:
    return pdf_bytes([b'<< /Type /Catalog /Pages 2 0 R >>', b'<< /Type /Pages /Kids [] /Count 0 >>'])


def page_tree_loop_pdf() -> bytes:
    """The page tree contains itself."""
    return pdf_bytes([
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'])


def many_pages_pdf(count: int) -> bytes:
    """`count` pages that are all the same page object (a few hundred bytes)."""
    kids = b' '.join(b'3 0 R' for _ in range(count))
    return pdf_bytes([
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [%s] /Count %d >>' % (kids, count),
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'])


def _bomb_forms(first: int, depth: int, fan: int) -> list[bytes]:
    """Form XObjects numbered from `first`: form k draws form k+1 `fan` times, the last
    draws a square (fan**depth squares to render)."""
    forms = []
    for level in range(depth):
        if level == depth - 1:
            body, resources = b'0 0 1 1 re f', b'<< >>'
        else:
            body = b'q 0.9 0 0 0.9 1 1 cm /X Do Q ' * fan
            resources = b'<< /XObject << /X %d 0 R >> >>' % (first + level + 1)
        forms.append(_stream(body, b'/Type /XObject /Subtype /Form /BBox [0 0 600 850] '
                                   b'/Resources %s ' % resources))
    return forms


def render_bomb_pdf(depth: int = 8, fan: int = 12) -> bytes:
    """A few KB of nested form XObjects: fan**depth squares to render."""
    return one_page_pdf(595, 842, b'q /X Do Q', b'<< /XObject << /X 5 0 R >> >>', _bomb_forms(5, depth, fan))


def blank_then_bomb_pdf(depth: int = 8, fan: int = 12) -> bytes:
    """Page 1 blank (renders at once), page 2 the render bomb."""
    return pdf_bytes([
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << >> >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R '
        b'/Resources << /XObject << /X 7 0 R >> >> >>',
        _stream(b''),
        _stream(b'q /X Do Q'),
        *_bomb_forms(7, depth, fan)])


def huge_image_pdf(side: int = 60000) -> bytes:
    """An A4 page holding one image XObject that claims side x side pixels (a
    flate stream of zeros that expands to gigabytes)."""
    zeros = zlib.compress(b'\x00' * (1 << 20), 9) if side else b''
    image = _stream(zeros, b'/Type /XObject /Subtype /Image /Width %d /Height %d '
                           b'/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode '
                    % (side, side))
    return one_page_pdf(595, 842, b'q 595 0 0 842 0 0 cm /I Do Q',
                        b'<< /XObject << /I 5 0 R >> >>', [image])


def encrypted_pdf(good_pdf: str) -> bytes:
    import io

    import pypdf
    writer = pypdf.PdfWriter(clone_from=good_pdf)
    writer.encrypt(user_password='secret', owner_password='owner')
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def first_page_pdf(good_pdf: str) -> bytes:
    import io

    import pypdf
    reader = pypdf.PdfReader(good_pdf)
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ images

def png_bytes(width: int, height: int, value: int = 255) -> bytes:
    """A grey PNG written by hand (any size, no image library needed)."""
    import struct
    row = b'\x00' + bytes([value]) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', raw) + chunk(b'IEND', b'')


def png_bomb() -> bytes:
    """Claims 100000 x 100000 pixels in its header; the data is a few bytes."""
    import struct
    good = png_bytes(1, 1)
    header = struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0)
    chunk = struct.pack('>I', 13) + b'IHDR' + header + struct.pack('>I', zlib.crc32(b'IHDR' + header))
    return good[:8] + chunk + good[8 + 25:]


def many_frame_tiff(frames: int, side: int = 300) -> bytes:
    import io

    from PIL import Image
    images = [Image.new('L', (side, side), 255 - (i % 2) * 255) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format='TIFF', save_all=True, append_images=images[1:], dpi=(200, 200))
    return buffer.getvalue()


def good_png(good_pdf: str) -> bytes:
    """Page 1 of the good scan as a PNG (rendered by pdftoppm at 200 dpi)."""
    import subprocess
    return subprocess.run(['pdftoppm', '-r', '200', '-f', '1', '-l', '1', '-png', good_pdf],
                          capture_output=True, check=True, timeout=60).stdout


# ------------------------------------------------------------------ the corpus

def _fixed(good: bytes, good_pdf: str) -> list[tuple[bytes, str, object]]:
    """(name, kind, content) of every hostile kind once. Content bytes, or a special:
    'fifo', ('symlink', target), ('dir', None)."""
    half = good[:len(good) // 2]
    flipped = bytearray(good)
    for position in range(len(flipped) // 3, len(flipped), max(1, len(flipped) // 40)):
        flipped[position] ^= 0x5A
    return [
        (b'truncated.pdf', 'truncated PDF', half),
        (b'truncated-header.pdf', 'PDF cut after its header', good[:400]),
        (b'byte-corrupt.pdf', 'PDF with bytes changed', bytes(flipped)),
        (b'encrypted.pdf', 'encrypted PDF', encrypted_pdf(good_pdf)),
        (b'zero-pages.pdf', 'PDF with no pages', zero_page_pdf()),
        (b'huge-9000pt.pdf', 'PDF page of 9000 x 9000 pt', one_page_pdf(9000, 9000)),
        (b'huge-14400pt.pdf', 'PDF page of 14400 x 14400 pt', one_page_pdf(14400, 14400)),
        (b'huge-20000pt.pdf', 'PDF page of 20000 x 20000 pt', one_page_pdf(20000, 20000)),
        (b'tiny-page.pdf', 'PDF page of 10 x 10 pt', one_page_pdf(10, 10)),
        (b'zero-size-page.pdf', 'PDF page of 0 x 0 pt', one_page_pdf(0, 0)),
        (b'strip-page.pdf', 'PDF page of 1 x 14400 pt', one_page_pdf(1, 14400)),
        (b'render-bomb.pdf', 'render bomb (nested form XObjects)', render_bomb_pdf()),
        (b'image-bomb.pdf', 'PDF image of 60000 x 60000 px', huge_image_pdf()),
        (b'page-tree-loop.pdf', 'page tree that loops', page_tree_loop_pdf()),
        (b'too-many-pages.pdf', 'PDF of 5000 pages', many_pages_pdf(5000)),
        (b'one-pixel.png', '1 x 1 PNG', png_bytes(1, 1)),
        (b'line-1x20000.png', '1 x 20000 PNG', png_bytes(1, 20000)),
        (b'line-20000x1.png', '20000 x 1 PNG', png_bytes(20000, 1, 0)),
        (b'png-bomb.png', 'PNG claiming 100000 x 100000 px', png_bomb()),
        (b'blank-many.tiff', 'TIFF of 40 blank frames', many_frame_tiff(40)),
        (b'truncated.png', 'truncated PNG', png_bytes(800, 600, 128)[:60]),
        (b'empty.pdf', 'empty file', b''),
        (b'random.pdf', 'random bytes named .pdf', random.Random(1).randbytes(5000)),
        (b'random.png', 'random bytes named .png', random.Random(2).randbytes(5000)),
        (b'pdf-header-only.pdf', 'just %PDF-', b'%PDF-1.4\n'),
        (b'text.pdf', 'text named .pdf', '会议纪要: not a scan\n'.encode('utf-8') * 30),
        (b'png-named.pdf', 'a PNG named .pdf', png_bytes(300, 300)),
        (b'pdf-named.tif', 'a PDF named .tif', one_page_pdf(10, 10)),
        (b'html.jpg', 'HTML named .jpg', b'<html><body>hello</body></html>\n' * 20),
        (b'named-pipe.pdf', 'named pipe (FIFO)', 'fifo'),
        (b'dev-zero.pdf', 'symlink to /dev/zero', ('symlink', '/dev/zero')),
        (b'dev-null.png', 'symlink to /dev/null', ('symlink', '/dev/null')),
        (b'dangling.pdf', 'symlink to nothing', ('symlink', '/nonexistent/nothing.pdf')),
        (b'folder.pdf', 'a folder named .pdf', ('dir', None)),
        (b'bad-utf8-\xff\xfe.pdf', 'undecodable name, truncated PDF', good[:2000]),
        (b'\xe4\xb8\xad\xe6\x96\x87 name with spaces & $(x).png', 'odd name, 1-px PNG', png_bytes(1, 1)),
        (b'-starts-with-dash.pdf', 'name starting with a dash', zero_page_pdf()),
        (b'newline\nin-name.pdf', 'newline in the name', good[:1000]),
    ]


def _variant(rng: random.Random, good: bytes) -> tuple[bytes, str, bytes]:
    """A random hostile file: a truncation or mutation of the good PDF, random bytes."""
    choice = rng.randrange(6)
    if choice == 0:
        cut = rng.randrange(1, len(good))
        return b'cut-%d.pdf' % cut, 'truncated PDF', good[:cut]
    if choice in (1, 2):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return b'mutated-%08x.pdf' % rng.getrandbits(32), 'PDF with random bytes changed', bytes(data)
    if choice == 3:
        suffix = rng.choice([b'.pdf', b'.png', b'.jpg', b'.tif', b'.bmp', b'.webp'])
        head = rng.choice([b'', b'%PDF-1.5\n', b'\x89PNG\r\n\x1a\n', b'\xff\xd8\xff', b'II*\x00', b'BM'])
        return (b'random-%08x' % rng.getrandbits(32) + suffix, 'random bytes after a real header',
                head + rng.randbytes(rng.randrange(1, 20000)))
    if choice == 4:
        side = rng.choice([1, 2, 50, 199, 3000, 9000, 14400, 20000])
        other = rng.choice([1, 600, 842, 14400])
        return (b'page-%dx%d.pdf' % (side, other), 'PDF page of odd size',
                one_page_pdf(side, other))
    width, height = rng.choice([(1, 1), (1, 5000), (5000, 1), (150, 150), (199, 4000)])
    return b'image-%dx%d-%d.png' % (width, height, rng.getrandbits(16)), 'image of odd size', \
        png_bytes(width, height, rng.randrange(256))


def write_corpus(folder: str, count: int = 50, seed: int = 0, good_pdf: str = GOOD_PDF,
                 good_files: int = 2) -> list[Item]:
    """Write `count` hostile files plus `good_files` good scans into `folder`."""
    folder_b = os.fsencode(folder)
    os.makedirs(folder_b, exist_ok=True)
    good = first_page_pdf(good_pdf)
    items: list[Item] = []
    entries = _fixed(good, good_pdf)[:count]
    rng = random.Random(seed)
    while len(entries) < count:
        entries.append(_variant(rng, good))
    for name, kind, content in entries:
        path = os.path.join(folder_b, name)
        if os.path.lexists(path):
            stem, suffix = os.path.splitext(name)
            name = b'%s-%d%s' % (stem, len(items), suffix)
            path = os.path.join(folder_b, name)
        if content == 'fifo':
            os.mkfifo(path)
        elif isinstance(content, tuple) and content[0] == 'symlink':
            os.symlink(content[1], path)
        elif isinstance(content, tuple) and content[0] == 'dir':
            os.makedirs(path)
        else:
            with open(path, 'wb') as fh:
                fh.write(content)
        items.append(Item(name, kind))
    # Good scans among them, one under a name that is not valid UTF-8.
    goods = [(b'good-form.pdf', good), (b'good-\xff-form.png', good_png(good_pdf))]
    for name, content in goods[:good_files]:
        with open(os.path.join(folder_b, name), 'wb') as fh:
            fh.write(content)
        items.append(Item(name, 'good form scan', good=True))
    return items


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--count', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--good', default=GOOD_PDF, help='the good PDF to truncate and mutate')
    args = parser.parse_args(argv)
    items = write_corpus(args.out, args.count, args.seed, args.good)
    print(f'wrote {len(items)} files to {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())


POPPLER_TOOLS = (b'pdftoppm', b'pdfinfo', b'prlimit')


def poppler_processes(folder) -> list[str]:
    """Pids of pdfinfo/pdftoppm (or the prlimit that starts them) still working on a
    file of `folder`: what a guard that kills its process group must never leave."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as fh:
                args = fh.read().split(b'\0')
        except OSError:
            continue
        if args and os.path.basename(args[0]) in POPPLER_TOOLS and any(os.fsencode(str(folder)) in a for a in args):
            found.append(pid)
    return found

