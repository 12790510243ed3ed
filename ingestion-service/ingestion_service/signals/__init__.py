from ingestion_service.signals.aggregate import Aggregator, BatchDeltas, ScopeDelta, aggregate

__all__ = ["Aggregator", "BatchDeltas", "ScopeDelta", "aggregate"]
