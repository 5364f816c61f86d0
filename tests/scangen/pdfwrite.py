"""A minimal image-only PDF writer: one full-page image per page, no text layer.

Written here rather than with PIL's PDF plugin because that one stores grayscale pages
as JPEG (the clean level must be lossless) and stamps a creation date into the file
(the output must be byte-identical for a seed). Lossless pages are Flate-compressed
raw samples, the others are stored as the JPEG stream itself (DCTDecode)."""
import io
import zlib


def _encode(image, jpeg_quality):
    """(filter name, stream bytes) for one page image."""
    if jpeg_quality:
        buffer = io.BytesIO()
        image.save(buffer, format='JPEG', quality=int(jpeg_quality), optimize=False)
        return 'DCTDecode', buffer.getvalue()
    return 'FlateDecode', zlib.compress(image.tobytes(), 6)


def write_pdf(path, pages):
    """pages: list of (PIL image in mode 'L' or 'RGB', dpi, jpeg quality or None).
    The page size is the image size at its dpi. Returns the PDF bytes."""
    objects = []        # object bodies; object number = index + 1

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)
    pages_obj = add(None)
    page_ids = []
    for image, dpi, quality in pages:
        colorspace = '/DeviceRGB' if image.mode == 'RGB' else '/DeviceGray'
        filter_name, data = _encode(image, quality)
        image_id = add(
            f'<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} '
            f'/ColorSpace {colorspace} /BitsPerComponent 8 /Filter /{filter_name} '
            f'/Length {len(data)} >>\nstream\n'.encode() + data + b'\nendstream')
        w_pt, h_pt = image.width * 72.0 / dpi, image.height * 72.0 / dpi
        content = f'q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q'.encode()
        content_id = add(f'<< /Length {len(content)} >>\nstream\n'.encode() + content + b'\nendstream')
        page_ids.append(add(
            f'<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] '
            f'/Resources << /XObject << /Im0 {image_id} 0 R >> >> /Contents {content_id} 0 R >>'.encode()))
    kids = ' '.join(f'{i} 0 R' for i in page_ids)
    objects[catalog - 1] = f'<< /Type /Catalog /Pages {pages_obj} 0 R >>'.encode()
    objects[pages_obj - 1] = f'<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>'.encode()

    out = io.BytesIO()
    out.write(b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f'{number} 0 obj\n'.encode() + body + b'\nendobj\n')
    xref = out.tell()
    out.write(f'xref\n0 {len(objects) + 1}\n0000000000 65535 f \n'.encode())
    for offset in offsets:
        out.write(f'{offset:010d} 00000 n \n'.encode())
    out.write(f'trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\n'
              f'startxref\n{xref}\n%%EOF\n'.encode())
    data = out.getvalue()
    with open(path, 'wb') as fh:
        fh.write(data)
    return data
