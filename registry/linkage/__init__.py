"""Probabilistic linkage of department records into persons (Splink, DuckDB backend).

    model = load_model()                       # the committed, versioned model
    predict_links(con, model)                  # records -> links (full); or changed_uids="record_changes"
    cluster_records(con)                       # links (+ link_decisions) -> clusters
"""

from registry.linkage.clustering import cluster_records
from registry.linkage.model import LINK_FLOOR, MATCH_THRESHOLD, UNCERTAIN_BAND
from registry.linkage.prediction import predict_links
from registry.linkage.training import TrainedModel, load_model, train_model

__all__ = ["LINK_FLOOR", "MATCH_THRESHOLD", "UNCERTAIN_BAND", "TrainedModel", "cluster_records", "load_model",
           "predict_links", "train_model"]
