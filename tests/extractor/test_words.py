"""extractor.words: the odds of a run of Chinese characters as words."""
import math

from extractor import words


def test_a_run_split_into_known_words_scores_above_the_same_characters_unknown():
    model = words.WordModel({'阶段': 100.0, '成果': 50.0, '阶': 5.0, '段': 5.0, '价': 20.0})
    assert model.run_score('阶段成果') > model.run_score('价段成果')
    # A character the dictionary does not hold still scores, as a rare word.
    assert math.isfinite(model.run_score('龘'))


def test_the_gain_of_a_change_is_measured_on_the_run_of_chinese_holding_it():
    model = words.WordModel({'阶段': 100.0, '价': 20.0, '段': 5.0})
    chars = list('20价段')
    assert words.han_run(chars, 3) == (2, 4)
    assert words.word_gain(model, chars, 2, '阶') > 0
    assert words.word_gain(model, list('20阶段'), 2, '价') < 0


def test_the_shipped_dictionary_prefers_the_words_a_worn_character_was_misread_from():
    model = words.word_model()
    assert model is not None, 'jieba (its dictionary) is a dependency of the project'
    for misread, meant in (('价段性成果', '阶段性成果'), ('文化积旅游局', '文化和旅游局'),
                           ('资金复付时间', '资金支付时间'), ('重点土作', '重点工作')):
        assert model.run_score(meant) > model.run_score(misread), misread
    # ... and a place name over the word a misread would make of it.
    assert model.run_score('丰台区') > model.run_score('车台区')
