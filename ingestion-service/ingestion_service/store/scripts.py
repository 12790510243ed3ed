"""The store's Lua scripts (`lua/*.lua`, documented there), by name.

The writes touch one scope-minute's keys each; READ_MINUTES, READ_NAMED, READ_SPAN and PRESENT read
many (a whole window standalone, one scope-hour's minutes on a cluster). The writes are sent with EVAL (inside
MULTI/EXEC, where EVALSHA would need a SCRIPT LOAD round trip first), the reads with EVAL standalone
and EVALSHA on a cluster (store/reader.py), so their comment lines are dropped when loaded.
"""

from __future__ import annotations

from oncall_common.lua import lua_script

_PACKED = lua_script("ingestion_service", "packed_sketch.lua", strip_comments=True)
WRITE_SCOPE = _PACKED + lua_script("ingestion_service", "write_scope.lua", strip_comments=True)
READ_MINUTES = lua_script("ingestion_service", "read_minutes.lua", strip_comments=True)
ADMIT_NAMES = lua_script("ingestion_service", "admit_names.lua", strip_comments=True)
READ_NAMED = _PACKED + lua_script("ingestion_service", "read_named.lua", strip_comments=True)
READ_SPAN = _PACKED + lua_script("ingestion_service", "read_span.lua", strip_comments=True)
PRESENT = lua_script("ingestion_service", "present.lua", strip_comments=True)
