"""Damage clean generated scans with augraphy: a second damage model, written apart from
the generator's own (tests/scangen/damage.py), for measuring on damage we did not tune on.

Runs under an interpreter that has augraphy and img2pdf (a venv of its own: augraphy
installs opencv-python, which must not sit beside the project's opencv-python-headless):

    python3 -m venv /tmp/augvenv && /tmp/augvenv/bin/pip install augraphy img2pdf \
        'numba==0.60.0' 'numpy==2.0.2' 'opencv-python==4.11.0.86'
    /tmp/augvenv/bin/python benchmarks/augraphy_damage.py CLEAN_DIR OUT_DIR --mix office --seed 1717

(The pins: with numba 0.68 and numpy 2.4, as pip picked on 2026-11-30, augraphy 8.2.6's
BadPhotoCopy noise fails numba's type inference and the office mix stops.)

CLEAN_DIR holds PDFs and truth files of `python -m tests.scangen --level clean`; OUT_DIR
gets every PDF's pages damaged (200 dpi, gray) and its truth copied. benchmarks/
other_damage.py drives the whole measurement. Two mixes of augraphy's augmentations,
each drawn per page with the page's own seed:

- office: ink bleed or letterpress, low-ink lines, bleed-through; coloured, textured
  paper; drum or roller streaks; uneven light, bad photocopy, shadow or fax; JPEG.
- scanner: dithering or ink bleed, ink shift or hollow strokes, broken rules; paper
  textures (PaperFactory, Delaunay or Voronoi patterns, noise); streaks; light; JPEG
  25-95; photocopy, shadow or low-light noise; folds.

Neither mix draws what changes the content (markup, scribbles, watermarks, glitches):
the truth must stay true.
"""
import argparse
import glob
import os
import random
import shutil
import subprocess
import tempfile
import zlib

import cv2
import img2pdf
import numpy as np
from augraphy import (AugmentationSequence, AugraphyPipeline, BadPhotoCopy, BleedThrough, Brightness,
                      BrightnessTexturize, ColorPaper, DelaunayTessellation, DirtyDrum, DirtyRollers,
                      Dithering, Faxify, Folding, Gamma, Hollow, InkBleed, InkShifter, Jpeg, LightingGradient,
                      LinesDegradation, Letterpress, LowInkPeriodicLines, LowInkRandomLines, LowLightNoise,
                      NoiseTexturize, OneOf, PaperFactory, ShadowCast, SubtleNoise, VoronoiTessellation)


def streaks(p):
    return OneOf([DirtyDrum(line_width_range=(1, 2), line_concentration=0.05, direction=random.randint(0, 1),
                            noise_intensity=0.2, noise_value=(96, 192), ksize=(3, 3), sigmaX=0),
                  DirtyRollers(line_width_range=(2, 6), scanline_type=0)], p=p)


def light(p, brightness):
    return OneOf([LightingGradient(light_position=None, direction=None, max_brightness=255, min_brightness=0,
                                   mode='gaussian', linear_decay_rate=None, transparency=None),
                  Brightness(brightness_range=brightness, min_brightness=0),
                  Gamma(gamma_range=(0.8, 1.3))], p=p)


def office() -> AugraphyPipeline:
    ink = [
        OneOf([InkBleed(intensity_range=(0.1, 0.4), kernel_size=(3, 3), severity=(0.3, 0.6)),
               Letterpress(n_samples=(100, 300), n_clusters=(200, 400), std_range=(500, 3000),
                           value_range=(150, 224), value_threshold_range=(96, 128), blur=1)], p=0.4),
        OneOf([LowInkRandomLines(count_range=(5, 15), use_consistent_lines=False, noise_probability=0.1),
               LowInkPeriodicLines(count_range=(2, 5), period_range=(16, 32), use_consistent_lines=False,
                                   noise_probability=0.1)], p=0.4),
        BleedThrough(intensity_range=(0.1, 0.3), color_range=(32, 224), ksize=(17, 17), sigmaX=1,
                     alpha=random.uniform(0.1, 0.2), offsets=(10, 20), p=0.3),
    ]
    paper = [
        ColorPaper(hue_range=(0, 255), saturation_range=(10, 40), p=0.3),
        NoiseTexturize(sigma_range=(3, 10), turbulence_range=(2, 5), p=0.4),
        BrightnessTexturize(texturize_range=(0.9, 0.99), deviation=0.03, p=0.3),
    ]
    post = [
        streaks(0.3),
        light(0.5, (0.8, 1.2)),
        OneOf([BadPhotoCopy(noise_type=-1, noise_side='random', noise_iteration=(1, 2), noise_size=(1, 2),
                            noise_value=(128, 196), noise_sparsity=(0.3, 0.6), noise_concentration=(0.1, 0.5),
                            blur_noise=random.choice([True, False]), wave_pattern=False, edge_effect=False),
               ShadowCast(shadow_side='random', shadow_vertices_range=(2, 3), shadow_width_range=(0.5, 0.8),
                          shadow_height_range=(0.5, 0.8), shadow_color=(0, 0, 0), shadow_opacity_range=(0.2, 0.5),
                          shadow_iterations_range=(1, 2), shadow_blur_kernel_range=(101, 301)),
               Faxify(scale_range=(0.3, 0.6), monochrome=-1, monochrome_method='random', halftone=-1,
                      invert=1, half_kernel_size=(1, 1), angle=(0, 360), sigma=(1, 3))], p=0.45),
        OneOf([SubtleNoise(subtle_range=10), Jpeg(quality_range=(40, 70))], p=0.6),
    ]
    return AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post)


def scanner() -> AugraphyPipeline:
    ink = [
        OneOf([Dithering(dither=random.choice(['ordered', 'floyd-steinberg']), order=(3, 5)),
               InkBleed(intensity_range=(0.1, 0.2), kernel_size=random.choice([(5, 5), (3, 3)]),
                        severity=(0.4, 0.6))], p=0.35),
        OneOf([InkShifter(text_shift_scale_range=(18, 27), text_shift_factor_range=(1, 4), text_fade_range=(0, 2),
                          blur_kernel_size=(5, 5), blur_sigma=0, noise_type='random'),
               Hollow(hollow_median_kernel_value_range=(71, 101), hollow_min_width_range=(1, 2),
                      hollow_max_width_range=(150, 200), hollow_min_height_range=(1, 2),
                      hollow_max_height_range=(150, 200), hollow_min_area_range=(10, 20),
                      hollow_max_area_range=(2000, 5000), hollow_dilation_kernel_size_range=(1, 2))], p=0.3),
        LinesDegradation(line_roi=(0.0, 0.0, 1.0, 1.0), line_gradient_range=(32, 255), line_gradient_direction=(0, 2),
                         line_split_probability=(0.2, 0.4), line_replacement_value=(250, 255),
                         line_min_length=(30, 40), line_long_to_short_ratio=(5, 7),
                         line_replacement_probability=(0.4, 0.5), line_replacement_thickness=(1, 3), p=0.4),
    ]
    paper = [
        PaperFactory(p=0.3),
        OneOf([DelaunayTessellation(n_points_range=(500, 800), n_horizontal_points_range=(500, 800),
                                    n_vertical_points_range=(500, 800), noise_type='random', color_list='default',
                                    color_list_alternate='default'),
               VoronoiTessellation(mult_range=(50, 80), seed=19829813472, num_cells_range=(500, 1000),
                                   noise_type='random', background_value=(200, 255))], p=0.3),
        AugmentationSequence([NoiseTexturize(sigma_range=(3, 10), turbulence_range=(2, 5)),
                              BrightnessTexturize(texturize_range=(0.9, 0.99), deviation=0.03)], p=0.3),
    ]
    post = [
        streaks(0.2),
        light(0.4, (0.9, 1.1)),
        OneOf([SubtleNoise(subtle_range=10), Jpeg(quality_range=(25, 95))], p=0.6),
        OneOf([BadPhotoCopy(noise_mask=None, noise_type=-1, noise_side='random', noise_iteration=(1, 2),
                            noise_size=(1, 3), noise_value=(128, 196), noise_sparsity=(0.3, 0.6),
                            noise_concentration=(0.1, 0.6), blur_noise=random.choice([True, False]),
                            blur_noise_kernel=random.choice([(3, 3), (5, 5), (7, 7)]),
                            wave_pattern=random.choice([True, False]), edge_effect=random.choice([True, False])),
               ShadowCast(shadow_side='random', shadow_vertices_range=(1, 20), shadow_width_range=(0.3, 0.8),
                          shadow_height_range=(0.3, 0.8), shadow_color=(0, 0, 0), shadow_opacity_range=(0.2, 0.9),
                          shadow_iterations_range=(1, 2), shadow_blur_kernel_range=(101, 301)),
               LowLightNoise(num_photons_range=(50, 100), alpha_range=(0.7, 1.0), beta_range=(10, 30),
                             gamma_range=(1, 1.8), bias_range=(20, 40), dark_current_value=1.0,
                             exposure_time=0.2, gain=0.1)], p=0.4),
        Folding(fold_count=random.randint(1, 3), fold_noise=0.0, fold_angle_range=(-360, 360),
                gradient_width=(0.1, 0.2), gradient_height=(0.01, 0.1), backdrop_color=(0, 0, 0), p=0.2),
    ]
    return AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post)


MIXES = {'office': office, 'scanner': scanner}


def damage_pdf(pdf: str, out_dir: str, mix: str, seed: int) -> str:
    stem = os.path.splitext(os.path.basename(pdf))[0]
    name = stem.replace('-clean-', f'-{mix}-')
    work = tempfile.mkdtemp()
    try:
        subprocess.run(['pdftoppm', '-r', '200', '-gray', '-png', pdf, os.path.join(work, 'p')], check=True)
        pages = []
        for k, png in enumerate(sorted(glob.glob(os.path.join(work, 'p*.png')))):
            page_seed = zlib.crc32(f'{seed}:{stem}:{k}'.encode())
            random.seed(page_seed)
            np.random.seed(page_seed)
            image = MIXES[mix]()(cv2.imread(png))
            if image.ndim == 3 and image.shape[2] == 4:
                image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
            pages.append(cv2.imencode('.png', image)[1].tobytes())
    finally:
        shutil.rmtree(work)
    with open(os.path.join(out_dir, name + '.pdf'), 'wb') as fh:
        fh.write(img2pdf.convert(pages, layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 200))))
    shutil.copy(os.path.join(os.path.dirname(pdf), stem + '.truth.json'), os.path.join(out_dir, name + '.truth.json'))
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('clean_dir')
    ap.add_argument('out_dir')
    ap.add_argument('--mix', choices=sorted(MIXES), default='office')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for pdf in sorted(glob.glob(os.path.join(args.clean_dir, '*.pdf'))):
        print(damage_pdf(pdf, args.out_dir, args.mix, args.seed), flush=True)


if __name__ == '__main__':
    main()
