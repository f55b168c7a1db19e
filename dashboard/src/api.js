// The ctc read API (docs/api.md). Same origin under /api unless VITE_API_BASE is set
// (e.g. the API Gateway URL when the dashboard is deployed on S3 + CloudFront).
export const API_BASE = (import.meta.env.VITE_API_BASE ?? "/api").replace(/\/$/, "");

export async function getJson(path, params = {}) {
  const qs = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""),
  ).toString();
  const res = await fetch(`${API_BASE}${path}${qs ? `?${qs}` : ""}`, {
    headers: { Accept: "application/json" },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** Everything one poll needs, fetched in parallel; each part is {data} or {error}. */
export async function poll(symbol) {
  const sym = encodeURIComponent(symbol);
  const parts = {
    alerts: getJson("/alerts", { limit: 50 }),
    whales: getJson("/alerts", { type: "whale_trade", limit: 25 }),
    metrics: getJson(`/metrics/${sym}`),
    volume: getJson(`/series/volume/${sym}`, { limit: 180 }),
    spread: getJson(`/series/spread/${sym}`, { limit: 180 }),
    health: getJson("/health"),
  };
  const keys = Object.keys(parts);
  const settled = await Promise.allSettled(Object.values(parts));
  return Object.fromEntries(
    settled.map((r, i) => [
      keys[i],
      r.status === "fulfilled" ? { data: r.value } : { error: r.reason?.message || "failed" },
    ]),
  );
}
