import time, statistics, httpx, json
from bench.agent_stack import Stack
from bench.agent import ingest_generated
with Stack(agent_env={"LLM_ENGINE": "rules"}) as stack:
    ingest_generated(stack.ingestion_url, 1_000_000)
    with httpx.Client(base_url=stack.ingestion_url, timeout=30) as c:
        for path, params in [("/metrics/breakdown", {"window": "15m", "baseline": "60m"}), ("/metrics/saturation", {"window": "15m"})]:
            ts=[]
            for _ in range(30):
                t0=time.perf_counter(); r=c.get(path, params=params); ts.append((time.perf_counter()-t0)*1000)
            print(path, f"p50 {statistics.median(ts):.1f} max {max(ts):.1f} bytes {len(r.content)} scopes {len(r.json().get('scopes', []))}")
    with httpx.Client(base_url=stack.agent_url, timeout=30) as c:
        ts=[]
        for _ in range(30):
            t0=time.perf_counter(); r=c.post("/analyze", json={}); ts.append((time.perf_counter()-t0)*1000)
        print("/analyze", f"p50 {statistics.median(ts):.1f} bytes {len(r.content)}", [ (f['specialist'], f['duration_ms']) for f in r.json()['findings']])
