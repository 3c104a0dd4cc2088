"""Write the sample datasets in sample_datasets/ from the copies that ship inside
scikit-learn (real data, unchanged), with a sidecar per dataset.

Run once by a maintainer; the CSV files are committed. The Boston housing table
is no longer in current scikit-learn: pass the path of ``boston_house_prices.csv``
from scikit-learn 1.1.3's wheel (sklearn/datasets/data/) with --boston.

    python tools/make_sample_datasets.py --boston /path/to/boston_house_prices.csv
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pandas as pd
from sklearn import datasets

OUT = Path(__file__).resolve().parent.parent / "sample_datasets"

SKLEARN_LICENSE = "BSD-3-Clause (copy distributed with scikit-learn)"


def _bunch_frame(bunch, label: str, label_names=None) -> pd.DataFrame:
    frame = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
    target = bunch.target
    if label_names is not None:
        target = [str(label_names[i]) for i in target]
    frame[label] = target
    return frame


def write(name: str, frame: pd.DataFrame, meta: dict) -> None:
    path = OUT / f"{name}.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sidecar = {
        "name": name,
        **meta,
        "file": path.name,
        "rows": int(len(frame)),
        "columns": [{"name": c, "dtype": str(t)} for c, t in frame.dtypes.items()],
        "sha256": digest,
    }
    (OUT / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    print(f"{name}: {len(frame)} rows, {len(frame.columns)} columns, {digest[:12]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boston", type=Path, required=True)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)

    iris = datasets.load_iris()
    write("iris", _bunch_frame(iris, "species", iris.target_names), {
        "title": "Iris flowers",
        "description": "Sepal and petal measurements (cm) of 150 iris flowers, 50 of each of "
                       "three species (R. A. Fisher, 1936).",
        "source": "UCI Machine Learning Repository, Iris; copy shipped with scikit-learn",
        "license": SKLEARN_LICENSE, "label": "species", "task": "classification"})

    wine = datasets.load_wine()
    write("wine", _bunch_frame(wine, "cultivar", wine.target_names), {
        "title": "Wine recognition",
        "description": "Chemical analysis of 178 Italian wines from three cultivars "
                       "(Forina et al., PARVUS).",
        "source": "UCI Machine Learning Repository, Wine; copy shipped with scikit-learn",
        "license": SKLEARN_LICENSE, "label": "cultivar", "task": "classification"})

    cancer = datasets.load_breast_cancer()
    write("breast_cancer", _bunch_frame(cancer, "diagnosis", cancer.target_names), {
        "title": "Breast cancer (Wisconsin diagnostic)",
        "description": "30 features computed from digitized images of fine needle aspirates "
                       "of breast masses, 569 patients; diagnosis malignant or benign "
                       "(Street, Wolberg and Mangasarian, 1993).",
        "source": "UCI Machine Learning Repository, Breast Cancer Wisconsin (Diagnostic); "
                  "copy shipped with scikit-learn",
        "license": SKLEARN_LICENSE, "label": "diagnosis", "task": "classification"})

    digits = datasets.load_digits()
    frame = pd.DataFrame(digits.data.astype(int),
                         columns=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)])
    frame["digit"] = digits.target
    write("digits", frame, {
        "title": "Handwritten digits (8x8)",
        "description": "1,797 handwritten digits 0-9 as 8x8 images, each pixel a count 0-16 "
                       "(E. Alpaydin and C. Kaynak, 1998). Columns pixel_ROW_COL.",
        "source": "UCI Machine Learning Repository, Optical Recognition of Handwritten "
                  "Digits (test set); copy shipped with scikit-learn",
        "license": SKLEARN_LICENSE, "label": "digit", "task": "classification",
        "image_shape": [8, 8]})

    diabetes = datasets.load_diabetes(scaled=False)
    write("diabetes", _bunch_frame(diabetes, "progression"), {
        "title": "Diabetes progression",
        "description": "Age, sex, body mass index, blood pressure and six blood serum "
                       "measurements of 442 diabetes patients, with a quantitative measure of "
                       "disease progression one year later (Efron et al., 2004). Unscaled.",
        "source": "B. Efron, T. Hastie, I. Johnstone, R. Tibshirani, Least Angle Regression, "
                  "Annals of Statistics 2004; copy shipped with scikit-learn",
        "license": SKLEARN_LICENSE, "label": "progression", "task": "regression"})

    boston = pd.read_csv(args.boston, skiprows=1)
    write("boston_housing", boston, {
        "title": "Boston housing",
        "description": "506 Boston neighbourhoods (census tracts, 1970): 13 features such as "
                       "crime rate (CRIM), rooms per dwelling (RM) and % lower status (LSTAT); "
                       "label MEDV, the median value of owner-occupied homes in $1000s "
                       "(Harrison and Rubinfeld, 1978). The regression example of 'Deep "
                       "Learning with Python'. Note: column B encodes the proportion of Black "
                       "residents by a questionable formula; scikit-learn removed this dataset "
                       "for that reason. It is kept here because the book uses it; consider "
                       "dropping B with Select Columns.",
        "source": "StatLib / UCI Machine Learning Repository, Housing; copy from "
                  "scikit-learn 1.1.3 (sklearn/datasets/data/boston_house_prices.csv)",
        "license": "Public domain (StatLib); as distributed with scikit-learn 1.1.3 (BSD-3-Clause)",
        "label": "MEDV", "task": "regression", "units": {"MEDV": "thousands of US dollars"}})


if __name__ == "__main__":
    main()
