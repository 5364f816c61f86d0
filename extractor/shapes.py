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
    for contour, (_next, _prev, child, parent) in zip(contours, hierarchy[0]):
        if parent == -1 and child != -1:
            x, y = contour[0][0]
            holed[labels[y, x]] = True
    return holed
