"""Probabilistic linkage of department records into persons (Splink, DuckDB backend).

    model = load_model()                       # the committed, versioned model
    predict_links(con, model, night)           # records -> links (the night plan: full, or its changes only)
    cluster_records(con, night)                # links (+ link_decisions) -> clusters

Everything DuckDB-specific (Splink's database API, the comparisons' SQL macros, the connected-components
solver) is in backend.py: another engine (Spark) gives its twin of that one module.
"""

from registry.linkage.clustering import cluster_records
from registry.linkage.calibration import UNCERTAIN_BAND
from registry.linkage.model import LINK_FLOOR, MATCH_THRESHOLD
from registry.linkage.prediction import predict_links
from registry.linkage.training import TrainedModel, load_model, train_model

__all__ = ["LINK_FLOOR", "MATCH_THRESHOLD", "UNCERTAIN_BAND", "TrainedModel", "cluster_records", "load_model",
           "predict_links", "train_model"]
