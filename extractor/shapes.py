"""Shape measures of connected components, shared by the stages that tell print from
specks (preprocess on the page, ocr inside a cell). Plain functions over arrays."""
from __future__ import annotations

import cv2
import numpy as np


def components_with_holes(ink: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Per component label (0..n-1), whether it encloses paper: a 。 ring or an o has a
    hole, a speck of toner (round, a plus, a diagonal pair) has none."""
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    holed = np.zeros(n, bool)
    if hierarchy is None:
        return holed
    # An outer contour (no parent) with a child (a hole's contour) encloses paper. Only
    # those are looked at one by one: a speckled page has tens of thousands of contours.
    outer_with_hole = np.flatnonzero((hierarchy[0][:, 3] == -1) & (hierarchy[0][:, 2] != -1))
    if len(outer_with_hole):
        start = np.array([contours[i][0][0] for i in outer_with_hole])
        holed[labels[start[:, 1], start[:, 0]]] = True
    return holed
