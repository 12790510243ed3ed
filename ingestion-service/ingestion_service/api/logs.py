"""POST /logs: thin route; parsing, aggregation and the write live in ingest/."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status

from oncall_common.security import BearerAuth
from ingestion_service.api.deps import IngestorDep, ParsePoolDep
from ingestion_service.api.errors import unprocessable
from ingestion_service.api.models import IngestResponse
from ingestion_service.haproxy.models import DEFAULT_OPTIONS, ParseOptions
from ingestion_service.ingest.body import SUPPORTED, TEXT, UnreadableBody, decode, media_type, parse_body
from ingestion_service.ingest.pipeline import Prepared, prepare, prepare_text
from ingestion_service.parse_pool import ParsePool

log = logging.getLogger(__name__)
_THREAD_THRESHOLD = 64 * 1024  # bodies above this are parsed off the event loop (worker processes)


def _prepare(kind: str, body: bytes, options: ParseOptions = DEFAULT_OPTIONS) -> Prepared:
    if kind == TEXT:
        return prepare_text(decode(body), options)
    return prepare(parse_body(kind, body, options))


async def _prepare_off_loop(pools: ParsePool | None, kind: str, body: bytes, options: ParseOptions) -> Prepared:
    """In a parse worker process; if the pool broke (a worker was killed), this request is parsed
    in a thread and the pool is replaced, so the service heals by itself."""
    if pools is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(pools.executor, _prepare, kind, body, options)
        except BrokenProcessPool:
            log.warning("parse worker pool broken (a worker died): replacing it")
            pools.replace()
    return await asyncio.to_thread(_prepare, kind, body, options)


def logs_router(auth: BearerAuth) -> APIRouter:
    router = APIRouter()

    @router.post("/logs", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResponse,
                 dependencies=[Depends(auth)])
    async def post_logs(
        request: Request,
        ingestor: IngestorDep,
        pools: ParsePoolDep,
        content_type: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        kind = media_type(content_type)
        if kind not in SUPPORTED:
            raise HTTPException(415,
                                detail=f"Content-Type must be one of {', '.join(SUPPORTED)}")
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise unprocessable(["header", "Idempotency-Key"], "Idempotency-Key must be 1 to 200 characters")
        body = await request.body()
        try:
            if len(body) > _THREAD_THRESHOLD:
                batch = await _prepare_off_loop(pools, kind, body, ingestor.parse_options)
            else:
                batch = _prepare(kind, body, ingestor.parse_options)
        except UnreadableBody as exc:
            raise unprocessable(["body"], str(exc)) from exc
        return await ingestor.commit(batch, source="http", idempotency_key=idempotency_key)

    return router
