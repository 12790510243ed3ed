"""The store's Lua scripts (`lua/*.lua`, documented there), by name.

Each touches one scope-minute's keys (one hash tag) except READ_NAMED and READ_SPAN. They are sent with EVAL
on every call (inside MULTI/EXEC for the writes, where EVALSHA would need a SCRIPT LOAD round
trip first), so their comment lines are dropped when loaded.
"""

from __future__ import annotations

from oncall_common.lua import lua_script

_PACKED = lua_script("ingestion_service", "packed_sketch.lua", strip_comments=True)
WRITE_SCOPE = _PACKED + lua_script("ingestion_service", "write_scope.lua", strip_comments=True)
READ_SCOPE = lua_script("ingestion_service", "read_scope.lua", strip_comments=True)
ADMIT_NAMES = lua_script("ingestion_service", "admit_names.lua", strip_comments=True)
READ_NAMED = _PACKED + lua_script("ingestion_service", "read_named.lua", strip_comments=True)
READ_SPAN = _PACKED + lua_script("ingestion_service", "read_span.lua", strip_comments=True)
