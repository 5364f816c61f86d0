"""Chinese word frequencies: how likely a run of Chinese characters is as words.

The OCR stage asks it whether one of the recogniser's runners-up for a character reads
as more likely Chinese than its first choice (`价段性` against `阶段性`, `文化积旅游局` against
`文化和旅游局`): a noisy-channel check, the recogniser's odds against the words'. The
words are jieba's dictionary (349,046 words with their counts in a general corpus;
the file ships inside the `jieba` wheel, read here as data: nothing of jieba runs).

A run's likelihood is its best split into dictionary words under a unigram model, as
jieba's own segmenter scores a sentence (a character not in the dictionary counts as
a word seen UNKNOWN_COUNT times).
"""
import importlib.util
import math
import os
from functools import lru_cache
from typing import Optional

import numpy as np

from models.text import is_han

# Words longer than this are not looked up (the dictionary's idioms and names are
# rarely longer; a lost long word costs little on a short cell).
LONGEST_WORD = 6
# A character the dictionary does not hold as a word: counted as seen this often.
UNKNOWN_COUNT = 0.5


def dictionary_path() -> Optional[str]:
    """jieba's dict.txt, found without importing jieba; None when it is not installed."""
    spec = importlib.util.find_spec('jieba')
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], 'dict.txt')
    return path if os.path.exists(path) else None


class WordModel:
    """Unigram word log-probabilities and the best split of a run of characters. The
    words are kept per length in sorted arrays (8 MB, where a dict of them took 60 MB
    in every worker), looked up a run's substrings at a time."""

    def __init__(self, counts: dict[str, float]):
        total = sum(c for c in counts.values() if c > 0) or 1.0
        self.log_total = math.log(total)
        self.unknown = math.log(UNKNOWN_COUNT) - self.log_total
        self.words: dict[int, np.ndarray] = {}
        self.logps: dict[int, np.ndarray] = {}
        for length in range(1, LONGEST_WORD + 1):
            found = sorted((w, c) for w, c in counts.items() if len(w) == length and c > 0)
            self.words[length] = np.array([w for w, _ in found], dtype=f'<U{length}')
            self.logps[length] = np.array([math.log(c) - self.log_total for _, c in found], dtype=np.float64)

    @classmethod
    def from_file(cls, path: str) -> 'WordModel':
        counts: dict[str, float] = {}
        with open(path, encoding='utf-8') as fh:
            for line in fh:
                parts = line.split(' ')
                if len(parts) >= 2 and len(parts[0]) <= LONGEST_WORD:
                    try:
                        counts[parts[0]] = float(parts[1])
                    except ValueError:
                        continue
        return cls(counts)

    def lookup(self, texts: list[str], length: int) -> np.ndarray:
        """Log-probability of each text (all of `length` characters) as a word; NaN
        for one the dictionary does not hold."""
        words = self.words.get(length)
        if words is None or not len(words) or not texts:
            return np.full(len(texts), np.nan)
        query = np.array(texts, dtype=f'<U{length}')
        at = np.minimum(np.searchsorted(words, query), len(words) - 1)
        return np.where(words[at] == query, self.logps[length][at], np.nan)

    @lru_cache(maxsize=4096)
    def run_score(self, run: str) -> float:
        """Log-probability of the run's best split into words (a line's run is scored
        once for each of its characters' runners-up: cached)."""
        n = len(run)
        # word[length][start]: the word run[start:start + length] as looked up.
        word = {length: self.lookup([run[i:i + length] for i in range(n - length + 1)], length)
                for length in range(1, min(LONGEST_WORD, n) + 1)}
        best = [0.0] + [-math.inf] * n
        for end in range(1, n + 1):
            for length in range(1, min(LONGEST_WORD, end) + 1):
                logp = float(word[length][end - length])
                if math.isnan(logp):
                    if length > 1:
                        continue
                    logp = self.unknown
                if best[end - length] + logp > best[end]:
                    best[end] = best[end - length] + logp
        return best[-1]


@lru_cache(maxsize=1)
def word_model() -> Optional[WordModel]:
    """The dictionary's model, loaded once a process; None without jieba."""
    path = dictionary_path()
    return WordModel.from_file(path) if path else None


def han_run(chars: list[str], at: int) -> tuple[int, int]:
    """[start, end) of the run of Chinese characters holding position `at`."""
    start, end = at, at + 1
    while start > 0 and is_han(chars[start - 1]):
        start -= 1
    while end < len(chars) and is_han(chars[end]):
        end += 1
    return start, end


def word_gain(model: WordModel, chars: list[str], at: int, other: str) -> float:
    """How much more likely, as words (natural log), the run holding `at` reads with
    `other` in its place."""
    start, end = han_run(chars, at)
    run = chars[start:end]
    changed = run[:at - start] + [other] + run[at - start + 1:]
    return model.run_score(''.join(changed)) - model.run_score(''.join(run))
