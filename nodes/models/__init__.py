"""Model nodes: learners (untrained models) and Train Model / Score Model."""
