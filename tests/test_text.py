"""The character corpus: the shipped file is the one its README describes, ids round-trip, the
windows are slices of the text with next-character targets, the unigram loss is the entropy."""

import gzip
import hashlib

import numpy as np
import pytest

from lib.text import (DOCSTRINGS_PATH, char_split, decode, encode, load_docstrings, unigram_loss,
                      vocabulary)

TEXT = load_docstrings()


def test_the_corpus_is_the_documented_file():
    raw = gzip.decompress(DOCSTRINGS_PATH.read_bytes())
    readme = (DOCSTRINGS_PATH.parent / "README.md").read_text()
    assert hashlib.sha256(raw).hexdigest() in readme                  # the README's checksum
    for needed in ("PSF", "Python Software Foundation License", "3.11.7", "docstrings.txt.gz"):
        assert needed in readme
    assert raw.decode("ascii") == TEXT
    assert len(TEXT) == 299_983
    assert set(TEXT) <= {"\n"} | {chr(c) for c in range(32, 127)}     # printable ASCII + newline
    assert len(set(TEXT)) == 96


def test_ids_round_trip_and_follow_the_sorted_vocabulary():
    vocab = vocabulary(TEXT)
    assert vocab == "".join(sorted(set(TEXT))) and vocab[0] == "\n" and vocab[1] == " "
    ids = encode(TEXT[:5000], vocab)
    assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 96
    assert decode(ids, vocab) == TEXT[:5000]
    assert encode("\n a", vocab).tolist() == [0, 1, vocab.index("a")]
    with pytest.raises(ValueError, match="only characters of vocab"):
        encode("caf\u00e9", vocab)


def test_windows_are_slices_of_the_text_with_next_character_targets():
    vocab = vocabulary(TEXT)
    ids = encode(TEXT, vocab)
    split = char_split(ids, seq_len=16, n_train=50, n_val=20, val_fraction=0.1, seed=3)
    boundary = len(ids) - int(round(0.1 * len(ids)))
    for X, y, low, high in ((split.X_train, split.y_train, 0, boundary),
                            (split.X_val, split.y_val, boundary, len(ids))):
        for row_x, row_y in zip(X, y):
            window = decode(row_x, vocab) + decode(row_y[-1:], vocab)
            start = TEXT.find(window, low)                             # a real slice of the text
            assert 0 <= start and start + 17 <= high
            assert decode(row_y, vocab) == window[1:]
    again = char_split(ids, seq_len=16, n_train=50, n_val=20, val_fraction=0.1, seed=3)
    assert np.array_equal(again.X_train, split.X_train)
    other = char_split(ids, seq_len=16, n_train=50, n_val=20, val_fraction=0.1, seed=4)
    assert not np.array_equal(other.X_train, split.X_train)


def test_unigram_loss_is_the_entropy_of_the_counts():
    # hand-worked: frequencies 1/2, 1/4, 1/4 -> 0.5 ln 2 + 2 * 0.25 ln 4 = 1.5 ln 2
    assert np.isclose(unigram_loss([0, 0, 1, 2]), 1.5 * np.log(2))
    ids = encode(TEXT, vocabulary(TEXT))
    counts = {c: TEXT.count(c) for c in set(TEXT)}
    p = np.array(list(counts.values())) / len(TEXT)
    assert np.isclose(unigram_loss(ids), -(p * np.log(p)).sum())
    assert 3.2 < unigram_loss(ids) < np.log(96)                        # below a uniform guess


@pytest.mark.parametrize("call, match", [
    (lambda: vocabulary(""), "text must be a non-empty string"),
    (lambda: encode("ab", "aa"), "vocab must be a non-empty string of distinct"),
    (lambda: decode([5], "ab"), r"ids must be ids in \[0, 2\)"),
    (lambda: char_split(np.arange(10), seq_len=16), "ids must be long enough"),
    (lambda: char_split([0.5, 1.5], seq_len=1), "ids must be an array of integer token ids"),
    (lambda: char_split(np.arange(100), val_fraction=0.0), "val_fraction must be"),
    (lambda: unigram_loss([]), "ids must hold at least one id"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
