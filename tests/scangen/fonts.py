"""The CJK fonts the generator draws with, found through fontconfig (fc-list).

Each font is named by a short key ('uming', 'noto-serif', ...) and recorded in truth
files as '<file name>#<face index>' (e.g. 'uming.ttc#0'), as in the shared samples."""
import functools
import glob
import os
import subprocess
from dataclasses import dataclass

from PIL import ImageFont

# key -> (file name, face family, is a heavy face suited to titles)
_WANTED = {
    'uming': ('uming.ttc', 'AR PL UMing CN'),
    'ukai': ('ukai.ttc', 'AR PL UKai CN'),
    'wqy-zenhei': ('wqy-zenhei.ttc', 'WenQuanYi Zen Hei'),
    'wqy-microhei': ('wqy-microhei.ttc', 'WenQuanYi Micro Hei'),
    'noto-sans': ('NotoSansCJK-Regular.ttc', 'Noto Sans CJK SC'),
    'noto-serif': ('NotoSerifCJK-Regular.ttc', 'Noto Serif CJK SC'),
    'noto-sans-bold': ('NotoSansCJK-Bold.ttc', 'Noto Sans CJK SC'),
    'noto-serif-bold': ('NotoSerifCJK-Bold.ttc', 'Noto Serif CJK SC'),
}
BODY_KEYS = ['uming', 'ukai', 'wqy-zenhei', 'wqy-microhei', 'noto-sans', 'noto-serif']
TITLE_KEYS = ['wqy-zenhei', 'noto-sans-bold', 'noto-serif-bold', 'wqy-microhei']


@dataclass(frozen=True)
class FontSpec:
    key: str
    path: str
    index: int

    @property
    def id(self):
        return f'{os.path.basename(self.path)}#{self.index}'

    def at(self, size_px):
        return load_font(self.path, self.index, int(round(size_px)))


@functools.lru_cache(maxsize=256)
def load_font(path, index, size_px):
    return ImageFont.truetype(path, size_px, index=index)


def _font_files():
    try:
        out = subprocess.run(['fc-list', ':lang=zh', 'file'], capture_output=True,
                             text=True, check=True).stdout
        files = {line.split(':')[0].strip() for line in out.splitlines() if line.strip()}
    except (OSError, subprocess.CalledProcessError):
        files = set()
    files |= set(glob.glob('/usr/share/fonts/**/*.tt[cf]', recursive=True))
    return sorted(files)


def _face_index(path, family):
    index = 0
    while True:
        try:
            font = ImageFont.truetype(path, 12, index=index)
        except OSError:
            return None
        if font.getname()[0] == family:
            return index
        index += 1


@functools.lru_cache(maxsize=1)
def available_fonts():
    """{key: FontSpec} for every wanted font that is installed."""
    by_name = {}
    for path in _font_files():
        by_name.setdefault(os.path.basename(path), path)
    found = {}
    for key, (file_name, family) in _WANTED.items():
        path = by_name.get(file_name)
        if path is None:
            continue
        index = _face_index(path, family)
        if index is not None:
            found[key] = FontSpec(key, path, index)
    if not any(k in found for k in BODY_KEYS):
        raise RuntimeError('no CJK font found (install fonts-arphic-uming or fonts-noto-cjk)')
    return found


# Fonts every form is drawn with instead of the installed set (use_only_fonts): for
# measuring the pipeline on print it was never tuned on.
_ONLY: list = []


def use_only_fonts(names) -> None:
    """Draw every form's body and title with these fonts (keys or font file paths);
    an empty list goes back to the installed set."""
    _ONLY[:] = [get_font(name) for name in names]


def body_fonts():
    if _ONLY:
        return list(_ONLY)
    fonts = available_fonts()
    return [fonts[k] for k in BODY_KEYS if k in fonts]


def title_fonts():
    if _ONLY:
        return list(_ONLY)
    fonts = available_fonts()
    return [fonts[k] for k in TITLE_KEYS if k in fonts] or body_fonts()


def get_font(name):
    """A FontSpec from a key ('uming'), a FontSpec, or a font file path (a collection's
    face as 'path#index')."""
    if isinstance(name, FontSpec):
        return name
    fonts = available_fonts()
    if name in fonts:
        return fonts[name]
    path, _, index = name.partition('#')
    if os.path.exists(path) and (not index or index.isdigit()):
        return FontSpec(os.path.basename(path), path, int(index or 0))
    raise KeyError(f'unknown font {name!r}; known: {sorted(fonts)}')
