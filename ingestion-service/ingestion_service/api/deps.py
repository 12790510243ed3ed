"""What the routes need, as `Annotated` dependencies. The lifespan (app.py) builds these
collaborators and keeps them on `app.state`; these getters are the only readers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ingestion_service.ingest.pipeline import Ingestor
from ingestion_service.parse_pool import ParsePool
from ingestion_service.store.client import Store


def redis_client(request: Request) -> Store:
    return request.app.state.redis  # type: ignore[no-any-return]


def ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor  # type: ignore[no-any-return]


def parse_pool(request: Request) -> ParsePool | None:
    return request.app.state.parse_pool  # type: ignore[no-any-return]


RedisDep = Annotated[Store, Depends(redis_client)]
IngestorDep = Annotated[Ingestor, Depends(ingestor)]
ParsePoolDep = Annotated[ParsePool | None, Depends(parse_pool)]
