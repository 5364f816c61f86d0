"""Optional OCR engine `paddleocr`: the same line recognition done by PaddleOCR 3.x
(`paddleocr.TextRecognition`) instead of this project's own onnxruntime code.

It implements `extractor.ocr.Recognizer`, so it is a drop-in replacement for the
default `PPOCRRecognizer` wherever a recognizer is passed
(`pipeline.extract_file(path, recognizer=PaddleRecognizer())`, `ocr.read_page`).

Installing
    pip install -e '.[paddleocr]'      # paddleocr 3.x and paddlex; paddlepaddle is NOT needed

    Caveat: paddlex pins `opencv-contrib-python==4.10.0.84` and `numpy<2.4`. pip will
    downgrade numpy and put opencv-contrib-python beside opencv-python-headless; both
    ship the same `cv2` package, so the one installed last wins. Prefer a separate
    virtualenv for this engine if the main one must keep its own OpenCV.

Selecting it
    `ocr.make_recognizer('paddleocr')`, or `EXTRACTOR_OCR_ENGINE=paddleocr` for
    `ocr.default_recognizer()` (CLI and workers), or `PaddleRecognizer()` passed as
    `recognizer=` to `pipeline.extract_file` / `ocr.read_page`. With no arguments it
    needs no download and no network: it builds a PaddleX model directory from the
    PP-OCRv6 small recognition ONNX file inside the `rapidocr` wheel (the default
    engine's model) and runs it through PaddleOCR's onnxruntime inference engine. The
    directory is built once under `$EXTRACTOR_CACHE_DIR/paddleocr/` (default
    `${XDG_CACHE_HOME:-~/.cache}/perf-form-extractor/paddleocr/`), or in a temporary
    folder if that is not writable. Threads: `EXTRACTOR_OCR_THREADS`, as the default.

Supplying your own model
    `PaddleRecognizer(model_dir=DIR)` or `EXTRACTOR_PADDLE_MODEL_DIR=DIR`. DIR is a
    PaddleX inference model directory as PaddleOCR exports or downloads it:
      - `inference.yml`: `Global.model_name` (e.g. `PP-OCRv5_server_rec`; must be a
        recognition model PaddleX knows), `PreProcess.transform_ops` (`DecodeImage`,
        `RecResizeImg`), `PostProcess: {name: CTCLabelDecode, character_dict: [...]}`;
      - and the weights: `inference.onnx` (runs on onnxruntime), or the Paddle format
        `inference.json` (or `inference.pdmodel`) + `inference.pdiparams`, which needs
        `pip install paddlepaddle` (CPU wheel ~195 MB, ~720 MB installed).
    The engine is picked from the files (`inference.onnx` first); `engine=` overrides
    it. Nothing is downloaded: a directory that is missing or incomplete is an error.

Offline
    A local model directory is always passed, so PaddleX never looks up its model
    hosters; `PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True` is also set before paddlex is
    imported, so even a code path that reached for them would not probe the network.

What the readings hold
    `text` and `confidence` are PaddleOCR's own `rec_text` (tidied by `ocr.tidy_text`
    like the default engine's) and `rec_score`. PaddleOCR
    does not return per-character scores, so the per-timestep probabilities that its
    CTC decoder receives are kept on the way through; from them come
    `min_char_confidence` and `numeric` (the line decoded with only NUMERIC_CHARS), as
    in the default engine. Should a future PaddleOCR change those internals,
    `min_char_confidence` falls back to the line score and `numeric` to None.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import shutil
import tempfile
from typing import Any, Optional, Sequence

import numpy as np

from extractor.ocr import NUMERIC_CHARS, Reading, _threads, packaged_model_path, tidy_text

DEFAULT_MODEL_NAME = 'PP-OCRv6_small_rec'
PACKAGED_MODEL_FILE = 'PP-OCRv6_rec_small.onnx'
MODEL_DIR_ENV = 'EXTRACTOR_PADDLE_MODEL_DIR'
CACHE_ENV = 'EXTRACTOR_CACHE_DIR'
# PaddleX reads these when it is first imported.
OFFLINE_ENV = {'PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK': 'True'}
REC_IMAGE_SHAPE = [3, 48, 320]
INSTALL_HINT = "pip install -e '.[paddleocr]'  (or: pip install 'paddleocr>=3,<4')"


def _set_offline_env() -> None:
    os.environ.update(OFFLINE_ENV)


def paddleocr_available() -> bool:
    return importlib.util.find_spec('paddleocr') is not None


# ----------------------------------------------------------------- model directory

def _onnx_characters(onnx_path: str) -> list[str]:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(onnx_path, sess_options=options, providers=['CPUExecutionProvider'])
    meta = session.get_modelmeta().custom_metadata_map
    if 'character' not in meta:
        raise ValueError(f'{onnx_path} has no "character" metadata; give a model dir with inference.yml instead')
    return meta['character'].splitlines()


def _model_config(model_name: str, characters: list[str]) -> dict:
    """inference.yml for a PP-OCR CTC recognition model, as PaddleX's text recognition
    predictor reads it (DecodeImage, RecResizeImg; CTCLabelDecode + its dictionary)."""
    return {
        'Global': {'model_name': model_name},
        'PreProcess': {'transform_ops': [
            {'DecodeImage': {'channel_first': False, 'img_mode': 'BGR'}},
            {'RecResizeImg': {'image_shape': list(REC_IMAGE_SHAPE)}},
        ]},
        'PostProcess': {'name': 'CTCLabelDecode', 'character_dict': list(characters)},
    }


def _yaml_dump(data: dict, path: str) -> None:
    import yaml
    dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
    with open(path, 'w', encoding='utf-8') as fh:
        yaml.dump(data, fh, Dumper=dumper, allow_unicode=True, default_flow_style=False, sort_keys=False)


def read_model_config(model_dir: str) -> dict:
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    path = os.path.join(model_dir, 'inference.yml')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'not a PaddleX model directory (no inference.yml): {model_dir}')
    with open(path, encoding='utf-8') as fh:
        return yaml.load(fh, Loader=loader)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.symlink(os.path.abspath(src), dst)
    except OSError:
        shutil.copyfile(src, dst)


def _fill_model_dir(folder: str, onnx_path: str, model_name: str) -> None:
    characters = _onnx_characters(onnx_path)
    target = os.path.join(folder, 'inference.onnx')
    if os.path.lexists(target):
        os.remove(target)
    _link_or_copy(onnx_path, target)
    config = _model_config(model_name, characters)
    _yaml_dump(config, os.path.join(folder, 'inference.yml'))
    # The dictionary must survive the YAML round trip exactly (PaddleX reloads it).
    if read_model_config(folder)['PostProcess']['character_dict'] != characters:
        raise RuntimeError(f'character dictionary did not round-trip through {folder}/inference.yml')


def _cache_root() -> str:
    root = os.environ.get(CACHE_ENV)
    if not root:
        base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
        root = os.path.join(base, 'perf-form-extractor')
    return os.path.join(root, 'paddleocr')


def _source_key(onnx_path: str, model_name: str) -> str:
    st = os.stat(onnx_path)
    raw = f'{os.path.realpath(onnx_path)}|{st.st_size}|{st.st_mtime_ns}|{model_name}|{REC_IMAGE_SHAPE}'
    return hashlib.sha1(raw.encode('utf-8')).hexdigest()[:12]


def build_model_dir(dest: Optional[str] = None, onnx_path: Optional[str] = None,
                    model_name: str = DEFAULT_MODEL_NAME) -> str:
    """A PaddleX model directory (inference.onnx + inference.yml) for a PP-OCR
    recognition ONNX file whose metadata holds its character list; by default the one
    inside the rapidocr wheel. With `dest`, it is (re)built there; without, it is built
    once in the cache (keyed by the ONNX file) and reused. Returns the directory."""
    onnx_path = onnx_path or packaged_model_path(PACKAGED_MODEL_FILE)
    if dest is not None:
        os.makedirs(dest, exist_ok=True)
        _fill_model_dir(dest, onnx_path, model_name)
        return dest
    final = os.path.join(_cache_root(), f'{model_name}-{_source_key(onnx_path, model_name)}')
    if os.path.isfile(os.path.join(final, 'inference.yml')) and os.path.exists(os.path.join(final, 'inference.onnx')):
        return final
    try:
        os.makedirs(os.path.dirname(final), exist_ok=True)
        staging = tempfile.mkdtemp(prefix='.build-', dir=os.path.dirname(final))
    except OSError:
        # Read-only home: build a private copy for this process.
        staging = tempfile.mkdtemp(prefix='perf-form-extractor-paddleocr-')
        atexit.register(shutil.rmtree, staging, True)
        _fill_model_dir(staging, onnx_path, model_name)
        return staging
    try:
        _fill_model_dir(staging, onnx_path, model_name)
        os.chmod(staging, 0o755)
        try:
            os.rename(staging, final)
        except OSError:
            if not os.path.isfile(os.path.join(final, 'inference.yml')):   # not a lost race
                raise
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return final


def _engine_for(model_dir: str) -> str:
    names = set(os.listdir(model_dir))
    if 'inference.onnx' in names:
        return 'onnxruntime'
    paddle_static = 'inference.pdiparams' in names and ({'inference.json', 'inference.pdmodel'} & names)
    if paddle_static or 'model.safetensors' in names or 'inference.pdparams' in names:
        return 'paddle'
    raise FileNotFoundError(f'no model weights in {model_dir}: expected inference.onnx, or '
                            'inference.json/inference.pdmodel + inference.pdiparams')


# ----------------------------------------------------------------- recognition

def _ctc_decode(probs: np.ndarray, charset: Sequence[str], ids: Optional[np.ndarray] = None
                ) -> tuple[str, float, float]:
    """Greedy CTC over (T, C) probabilities, optionally restricted to class `ids`
    (which include the blank, 0): text, mean and min confidence of the kept steps."""
    if ids is not None:
        sub = probs[:, ids]
        best, conf = ids[sub.argmax(axis=1)], sub.max(axis=1)
    else:
        best, conf = probs.argmax(axis=1), probs.max(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    if not keep.any():
        return '', 0.0, 0.0
    text = ''.join(charset[i] for i in best[keep])
    return text, float(conf[keep].mean()), float(conf[keep].min())


class _ProbabilityTap:
    """Stands in for the PaddleX predictor's CTC decoder: records the (B, T, C)
    probabilities it is given, then lets the decoder do its work unchanged."""

    def __init__(self, decoder):
        self.decoder = decoder
        self.batches: list[np.ndarray] = []

    def __call__(self, pred, *args, **kwargs):
        self.batches.append(np.asarray(pred[0]))
        return self.decoder(pred, *args, **kwargs)

    def __getattr__(self, name):
        if name == 'decoder':       # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.decoder, name)


class PaddleRecognizer:
    """Line recognition through PaddleOCR 3.x `TextRecognition`, batched by width."""

    name = 'paddleocr'
    batch_size = 16

    def __init__(self, model_dir: Optional[str] = None, model_name: Optional[str] = None,
                 engine: Optional[str] = None, threads: Optional[int] = None, device: str = 'cpu'):
        _set_offline_env()
        try:
            from paddleocr import TextRecognition
        except ImportError as err:
            raise ImportError(f'the paddleocr engine needs PaddleOCR 3.x: {INSTALL_HINT}') from err
        self.model_dir = model_dir or os.environ.get(MODEL_DIR_ENV) or build_model_dir()
        if not os.path.isdir(self.model_dir):
            raise FileNotFoundError(f'PaddleOCR model directory not found: {self.model_dir}')
        config = read_model_config(self.model_dir)
        self.model_name = model_name or config.get('Global', {}).get('model_name') or DEFAULT_MODEL_NAME
        self.engine = engine or _engine_for(self.model_dir)
        n_threads = threads or _threads()
        kwargs: dict[str, Any] = dict(model_name=self.model_name, model_dir=self.model_dir,
                                      device=device, engine=self.engine)
        if self.engine == 'onnxruntime':
            kwargs['engine_config'] = {'intra_op_num_threads': n_threads, 'inter_op_num_threads': 1,
                                       'log_severity_level': 3}
        else:
            if importlib.util.find_spec('paddle') is None:
                raise RuntimeError(f'{self.model_dir} holds a Paddle-format model: it needs '
                                   '`pip install paddlepaddle` (or give an inference.onnx model)')
            kwargs['cpu_threads'] = n_threads
        self.model = TextRecognition(**kwargs)
        self._tap = self._install_tap()
        self.charset: Optional[list[str]] = list(self._tap.character) if self._tap else None
        self.numeric_ids = None
        if self.charset:
            index = {c: i for i, c in enumerate(self.charset)}
            self.numeric_ids = np.array([0] + [index[c] for c in NUMERIC_CHARS if c in index])

    def _install_tap(self) -> Optional[_ProbabilityTap]:
        predictor = getattr(self.model, 'paddlex_predictor', None)
        decoder = getattr(predictor, 'post_op', None)
        character = getattr(decoder, 'character', None)
        if predictor is None or not callable(decoder) or not isinstance(character, list) or not character:
            return None
        tap = _ProbabilityTap(decoder)
        predictor.post_op = tap
        return tap

    def close(self) -> None:
        self.model.close()

    @staticmethod
    def _as_bgr(image: np.ndarray) -> np.ndarray:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if image.ndim == 2:
            return np.repeat(image[:, :, None], 3, axis=2)
        if image.shape[2] == 1:
            return np.repeat(image, 3, axis=2)
        return image[:, :, :3]

    def _reading(self, text: str, score: float, probs: Optional[np.ndarray]) -> Reading:
        low, numeric, n_conf = score, None, None
        if probs is not None and self.charset is not None:
            full, _mean, full_low = _ctc_decode(probs, self.charset)
            if full == text:      # the probabilities belong to this line
                low = full_low
                numeric, n_conf, _ = _ctc_decode(probs, self.charset, self.numeric_ids)
                numeric = numeric.strip()
        return Reading(text=tidy_text(text), confidence=float(score),
                       min_char_confidence=float(low) if text else 0.0,
                       numeric=numeric, numeric_confidence=n_conf)

    def recognize(self, images: Sequence[np.ndarray]) -> list[Reading]:
        results: list[Reading] = [Reading(text='', confidence=0.0, min_char_confidence=0.0)
                                  for _ in images]
        usable = [i for i, img in enumerate(images) if img.ndim >= 2 and img.shape[0] > 0 and img.shape[1] > 0]
        usable.sort(key=lambda i: images[i].shape[1] / images[i].shape[0])
        for start in range(0, len(usable), self.batch_size):
            batch = usable[start:start + self.batch_size]
            if self._tap:
                self._tap.batches.clear()
            out = self.model.predict([self._as_bgr(images[i]) for i in batch], batch_size=len(batch))
            probs: list[Optional[np.ndarray]] = [None] * len(batch)
            if self._tap and self._tap.batches:
                rows = [row for arr in self._tap.batches for row in arr]
                if len(rows) == len(batch):
                    probs = rows
            for k, i in enumerate(batch):
                results[i] = self._reading(str(out[k]['rec_text']), float(out[k]['rec_score']), probs[k])
        return results
