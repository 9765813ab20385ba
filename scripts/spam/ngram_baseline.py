"""How much of the spam slices a model unrelated to ours can get right: TF-IDF n-grams and logistic
regression (scikit-learn), trained on the same messages' views, scored on the same held-out slices.

Issue 12 asks 93% on test subject lines. This baseline says where that bar sits for what a model sees
of a subject line: with the text lowercased (what an uncased WordPiece vocabulary such as the default
model's keeps) and with letter case kept. It is a yardstick, not a product model.

    node --import tsx scripts/spam/dataset.ts --out DIR --slices
    python3 scripts/spam/ngram_baseline.py DIR        # needs scikit-learn (pip, offline mirror)
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

SLICES = ["subject", "first-sentence", "first-200-chars", "whole-message"]
TRAIN_VIEWS = ["subject", "first-sentence", "whole-message"]  # train's views, as the recipe's (a subset)


def read(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, label = line.rsplit("\t", 1)
        texts.append(text)
        labels.append(label == "spam")
    return texts, np.array(labels)


def features(keep_case: bool):
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=not keep_case)
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)  # lowercased: word identity only
    return make_union(chars, words)


def main(folder: Path) -> None:
    xs, ys = [], []
    for view in TRAIN_VIEWS:
        x, y = read(folder / f"train-{view}.tsv")
        xs += x
        ys.append(y)
    y_train = np.concatenate(ys)
    print(f"train: {len(xs)} texts ({', '.join(TRAIN_VIEWS)} of each training message)")
    print("| features | split | " + " | ".join(SLICES) + " |")
    print("|---|---|" + "---:|" * len(SLICES))
    for keep_case in (False, True):
        model = make_pipeline(features(keep_case), LogisticRegression(C=10, max_iter=3000))
        model.fit(xs, y_train)
        for split in ("val", "test"):
            cells = []
            for name in SLICES:
                x, y = read(folder / f"{split}-{name}.tsv")
                cells.append(f"{100 * float(np.mean(model.predict(x) == y)):.2f}%")
            label = "char 2-5 + word 1-2 grams, " + ("case kept" if keep_case else "lowercased")
            print(f"| {label} | {split} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/spam/ngram_baseline.py DIR   (DIR from scripts/spam/dataset.ts --slices)")
    main(Path(sys.argv[1]))
