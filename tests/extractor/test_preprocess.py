import cv2
import numpy as np
import pytest

from extractor import preprocess
from models import Page

from drawing import put_text, ruled_table


@pytest.mark.parametrize('angle', [-5.0, -1.3, -0.4, 0.0, 0.7, 2.5, 5.0])
def test_skew_is_measured_from_rules(angle):
    page = put_text(ruled_table(), '项目名称 年度资金总额', (120, 130))
    h, w = page.shape
    rotated = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0), (w, h),
                             borderValue=255)
    clean = preprocess.clean_page(Page(number=1, image=rotated, dpi=200))
    assert clean.angle == pytest.approx(angle, abs=0.12)


def test_red_and_blue_stamps_fade_but_black_print_stays():
    gray = put_text(ruled_table(), '丰台区科学技术和信息化局', (110, 230))
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    cv2.circle(bgr, (550, 250), 120, (40, 40, 220), 8)       # red seal ring
    cv2.circle(bgr, (850, 350), 90, (200, 60, 30), 8)        # blue seal ring
    cleaned = preprocess.suppress_stamps(bgr)
    ring = np.zeros(gray.shape, np.uint8)
    cv2.circle(ring, (550, 250), 120, 255, 8)
    on_ring_no_print = (ring > 0) & (gray > 200)
    assert cleaned[on_ring_no_print].mean() > 200            # the seal is gone
    text_pixels = gray < 100
    assert cleaned[text_pixels].mean() < 110                  # print under it stays dark


def test_shadow_is_evened_out():
    page = ruled_table().astype(np.float32)
    shade = np.linspace(0.45, 1.0, page.shape[1])[None, :]
    shaded = (page * shade).astype(np.uint8)
    even = preprocess.even_out_light(shaded)
    paper = ruled_table() == 255
    assert np.percentile(even[paper], 5) > 200
    ink = preprocess.binarise(even, 200)
    assert (ink[paper] > 0).mean() < 0.01                     # the shadow is not ink
