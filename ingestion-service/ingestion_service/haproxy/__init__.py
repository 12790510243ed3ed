from ingestion_service.haproxy.models import LogEntry, ParseError, ParseResult, Skip
from ingestion_service.haproxy.parser import parse_line

__all__ = ["LogEntry", "ParseError", "ParseResult", "Skip", "parse_line"]
