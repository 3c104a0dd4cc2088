"""The hand-written baseline of bench_large.py: what its workflow computes, with
pandas and scikit-learn only (run as its own process, so its CPU time and peak
memory are measured alone).

    python bench/large_script.py DATA.csv [--threshold T]

Import CSV -> Clean Missing Data (mean) -> Normalize (z-score) -> Split 0.8
-> Logistic Regression -> Score -> Evaluate; prints the metrics as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

LABEL = "label"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame = pd.read_csv(args.csv)
    features = [c for c in frame.columns if c != LABEL]
    missing = [c for c in features if frame[c].isna().any()]
    frame[missing] = frame[missing].fillna(frame[missing].mean())
    frame[features] = StandardScaler().fit_transform(frame[features].to_numpy(dtype=float))
    train, test = train_test_split(frame, train_size=0.8, random_state=args.split_seed,
                                   shuffle=True)
    model = LogisticRegression(C=1.0, max_iter=1000, tol=1e-4, random_state=0).fit(
        train[features].to_numpy(dtype=float), train[LABEL].to_numpy())
    probability = model.predict_proba(test[features].to_numpy(dtype=float))[:, 1]
    actual = test[LABEL].to_numpy()
    predicted = (probability >= args.threshold).astype(actual.dtype)
    result = {"accuracy": skm.accuracy_score(actual, predicted),
              "precision": skm.precision_score(actual, predicted, zero_division=0),
              "recall": skm.recall_score(actual, predicted, zero_division=0),
              "f1": skm.f1_score(actual, predicted, zero_division=0),
              "auc": skm.roc_auc_score(actual, probability)}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
