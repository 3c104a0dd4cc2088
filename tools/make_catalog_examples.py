"""Build the catalog example workflows with the studio.workflow API.

    python tools/make_catalog_examples.py

Rewrites examples/{classification_two_models,diabetes_regression,iris_clustering,
text_classification,hyperparameter_sweep,recommender}.axon.json.
"""
from pathlib import Path

from studio.workflow import Workflow
from studio.workflow.fileformat import save_workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Cards are 200 px wide: columns 240 apart leave a gap between neighbours.
ROW, COLUMN = 140, 240


def at(column: float, row: int) -> tuple[float, float]:
    return (column * COLUMN, row * ROW)


def build(name, description, nodes, edges, notes=(), file=None):
    workflow = Workflow()
    workflow.info.name = name
    workflow.info.description = description
    for node_id, type_id, params, position, *title in nodes:
        workflow.add_node(type_id, params, node_id=node_id, position=position,
                          title=title[0] if title else "")
    for source, source_port, target, target_port in edges:
        workflow.connect(source, source_port, target, target_port)
    for text, rect in notes:
        workflow.add_annotation(text, rect)
    save_workflow(workflow, EXAMPLES / file)


build("Breast cancer: logistic regression vs. boosted trees",
      "Two classifiers trained on the same stratified 70/30 split of the Wisconsin breast "
      "cancer data, scored on the same test rows and compared side by side in one Evaluate "
      "Model (accuracy, precision, recall, F1, AUC, ROC, precision-recall and lift curves).",
      [("dataset", "sample_dataset", {"dataset": "breast_cancer"}, at(0, 0)),
       ("split", "split_data", {"fraction": 0.7, "stratify": True, "seed": 1}, at(0, 1)),
       ("normalize", "normalize_data", {"method": "zscore"}, at(-0.5, 2)),
       ("apply_normalization", "apply_transformation", {}, at(0.5, 3), "Normalize test rows"),
       ("logistic", "logistic_regression", {}, at(-2, 3)),
       ("boosted", "boosted_decision_tree", {"trees": 100, "seed": 0}, at(-1, 3)),
       ("train_logistic", "train_model", {}, at(-1.5, 4), "Train logistic regression"),
       ("train_boosted", "train_model", {}, at(-0.5, 4), "Train boosted trees"),
       ("score_logistic", "score_model", {}, at(-1, 5), "Score logistic regression"),
       ("score_boosted", "score_model", {}, at(0, 5), "Score boosted trees"),
       ("evaluate", "evaluate_model", {}, at(-0.5, 6), "Compare the two models")],
      [("dataset", "data", "split", "data"),
       ("split", "train", "normalize", "data"),
       ("normalize", "transform", "apply_normalization", "transform"),
       ("split", "test", "apply_normalization", "data"),
       ("logistic", "learner", "train_logistic", "learner"),
       ("normalize", "data", "train_logistic", "data"),
       ("boosted", "learner", "train_boosted", "learner"),
       ("normalize", "data", "train_boosted", "data"),
       ("train_logistic", "model", "score_logistic", "model"),
       ("apply_normalization", "data", "score_logistic", "data"),
       ("train_boosted", "model", "score_boosted", "model"),
       ("apply_normalization", "data", "score_boosted", "data"),
       ("score_logistic", "scored", "evaluate", "scored"),
       ("score_boosted", "scored", "evaluate", "scored_to_compare")],
      [("Metrics of the second model (boosted trees) carry the suffix ' (2)'; the "
        "'comparison' table puts both side by side.", (220, 820, 260, 80))],
      "classification_two_models.axon.json")

build("Diabetes progression: decision forest regression",
      "Predict disease progression one year ahead for 442 diabetes patients from age, sex, "
      "BMI, blood pressure and six serum measurements with a decision forest, compared with "
      "a Bayesian linear regression (MAE, RMSE, R^2, relative errors).",
      [("dataset", "sample_dataset", {"dataset": "diabetes"}, at(0, 0)),
       ("split", "split_data", {"fraction": 0.75, "seed": 2}, at(0, 1)),
       ("forest", "decision_forest_regression", {"trees": 200, "min_samples_per_leaf": 5,
                                                 "seed": 0}, at(-2, 1)),
       ("bayesian", "bayesian_linear_regression", {}, at(-1, 1)),
       ("train_forest", "train_model", {}, at(-1.5, 2), "Train decision forest"),
       ("train_bayesian", "train_model", {}, at(-0.5, 2), "Train Bayesian linear"),
       ("score_forest", "score_model", {}, at(-1, 3), "Score decision forest"),
       ("score_bayesian", "score_model", {}, at(0, 3), "Score Bayesian linear"),
       ("evaluate", "evaluate_model", {}, at(-0.5, 4))],
      [("dataset", "data", "split", "data"),
       ("forest", "learner", "train_forest", "learner"),
       ("split", "train", "train_forest", "data"),
       ("bayesian", "learner", "train_bayesian", "learner"),
       ("split", "train", "train_bayesian", "data"),
       ("train_forest", "model", "score_forest", "model"),
       ("split", "test", "score_forest", "data"),
       ("train_bayesian", "model", "score_bayesian", "model"),
       ("split", "test", "score_bayesian", "data"),
       ("score_forest", "scored", "evaluate", "scored"),
       ("score_bayesian", "scored", "evaluate", "scored_to_compare")],
      file="diabetes_regression.axon.json")

build("Iris: k-means clustering",
      "Cluster 150 iris flowers into three groups from their z-scored sepal and petal "
      "measurements with k-means, without looking at the species; Evaluate Model reports "
      "the silhouette, the cluster sizes and how well the clusters match the species "
      "(adjusted Rand index, species-by-cluster counts).",
      [("dataset", "sample_dataset", {"dataset": "iris"}, at(0, 0)),
       ("normalize", "normalize_data", {"method": "zscore"}, at(0, 1)),
       ("kmeans", "k_means", {"clusters": 3, "seed": 0}, at(-1, 1)),
       ("train", "train_clustering_model", {}, at(-0.5, 2)),
       ("evaluate", "evaluate_model", {}, at(-0.5, 3), "Evaluate clusters")],
      [("dataset", "data", "normalize", "data"),
       ("kmeans", "learner", "train", "learner"),
       ("normalize", "data", "train", "data"),
       ("train", "assignments", "evaluate", "scored")],
      file="iris_clustering.axon.json")

build("Health news tweets: BBC or CNN? (TF-IDF text classification)",
      "Tell which outlet (BBC Health or CNN Health) tweeted a headline: links and "
      "punctuation removed, TF-IDF of words and word pairs fitted on the training tweets "
      "only, logistic regression, evaluated on a stratified 20% test set.",
      [("dataset", "sample_dataset", {"dataset": "health_news_tweets"}, at(0, 0)),
       ("preprocess", "preprocess_text", {"remove_urls": True}, at(0, 1)),
       ("split", "split_data", {"fraction": 0.8, "stratify": True, "seed": 1}, at(0, 2)),
       ("vectorize", "vectorize_text", {"method": "tfidf", "ngram_max": 2,
                                         "max_features": 2000, "min_document_frequency": 2},
        at(-0.5, 3)),
       ("apply_vectorizer", "apply_transformation", {}, at(0.5, 4), "Vectorize test tweets"),
       ("learner", "logistic_regression", {"regularization_strength": 10.0}, at(-1.5, 3)),
       ("train", "train_model", {}, at(-1, 4)),
       ("score", "score_model", {}, at(0, 5)),
       ("evaluate", "evaluate_model", {}, at(0, 6))],
      [("dataset", "data", "preprocess", "data"),
       ("preprocess", "data", "split", "data"),
       ("split", "train", "vectorize", "data"),
       ("vectorize", "transform", "apply_vectorizer", "transform"),
       ("split", "test", "apply_vectorizer", "data"),
       ("learner", "learner", "train", "learner"),
       ("vectorize", "data", "train", "data"),
       ("train", "model", "score", "model"),
       ("apply_vectorizer", "data", "score", "data"),
       ("score", "scored", "evaluate", "scored")],
      [("The vocabulary and idf weights are learnt from the training tweets only and "
        "applied unchanged to the test tweets.", (220, 400, 260, 80))],
      "text_classification.axon.json")

build("Wine: hyperparameter sweep of a boosted decision tree",
      "Grid sweep over the number of trees, learning rate and depth of a boosted decision "
      "tree on the training wines (3-fold cross-validated accuracy), then the best setting "
      "is scored on held-out wines.",
      [("dataset", "sample_dataset", {"dataset": "wine"}, at(0, 0)),
       ("split", "split_data", {"fraction": 0.7, "stratify": True, "seed": 3}, at(0, 1)),
       ("learner", "boosted_decision_tree", {"seed": 0}, at(-1, 1)),
       ("tune", "tune_model_hyperparameters", {
           "parameter_ranges": "n_estimators: 20, 50; learning_rate: 0.1, 0.3; "
                               "max_depth: 2, 3",
           "sweep_mode": "grid", "metric": "accuracy", "folds": 3, "seed": 0}, at(-0.5, 2)),
       ("score", "score_model", {}, at(0, 3), "Score the best model"),
       ("evaluate", "evaluate_model", {}, at(0, 4))],
      [("dataset", "data", "split", "data"),
       ("learner", "learner", "tune", "learner"),
       ("split", "train", "tune", "data"),
       ("tune", "model", "score", "model"),
       ("split", "test", "score", "data"),
       ("score", "scored", "evaluate", "scored")],
      [("The 'sweep' output of Tune Model Hyperparameters lists every setting with its "
        "mean cross-validated accuracy and rank.", (220, 260, 260, 80))],
      "hyperparameter_sweep.axon.json")

build("Recommender on SYNTHETIC ratings: matrix factorisation",
      "Matrix factorisation (alternating least squares) trained on 80% of a SYNTHETIC "
      "ratings table (made-up users and items; no redistributable real ratings table is "
      "shipped), evaluated two ways on the held-out 20%: rating error (MAE, RMSE) and the "
      "quality of each user's top 10 (precision@10, NDCG@10).",
      [("dataset", "sample_dataset", {"dataset": "synthetic_ratings"}, at(0, 0)),
       ("split", "split_data", {"fraction": 0.8, "seed": 1}, at(0, 1)),
       ("learner", "matrix_factorization_recommender", {"factors": 3, "iterations": 15,
                                                         "l2_weight": 0.1, "seed": 0},
        at(-1, 1)),
       ("train", "train_recommender", {}, at(-0.5, 2)),
       ("recommend", "score_recommender", {"mode": "recommend_items", "top_n": 10},
        at(-0.5, 3), "Top 10 per user"),
       ("predict", "score_recommender", {"mode": "predict_ratings"}, at(0.5, 3),
        "Predict held-out ratings"),
       ("evaluate_ranking", "evaluate_recommender", {"k": 10, "relevance_threshold": 4.0},
        at(-0.5, 4)),
       ("evaluate_ratings", "evaluate_model", {}, at(0.5, 4), "Rating error")],
      [("dataset", "data", "split", "data"),
       ("learner", "learner", "train", "learner"),
       ("split", "train", "train", "data"),
       ("train", "model", "recommend", "model"),
       ("split", "test", "recommend", "data"),
       ("train", "model", "predict", "model"),
       ("split", "test", "predict", "data"),
       ("recommend", "scored", "evaluate_ranking", "recommendations"),
       ("split", "test", "evaluate_ranking", "test"),
       ("predict", "scored", "evaluate_ratings", "scored")],
      file="recommender.axon.json")
