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

const settle = (promise) =>
  promise.then(
    (data) => ({ data }),
    (err) => ({ error: err?.message || "failed" }),
  );

/**
 * Everything one poll needs; each part is {data} or {error}. The catalog comes first: it
 * names the chart series (the detectors' publish: sections) and the symbols, so a new
 * detector's chart needs no change here. ``symbol`` may be null: the catalog's first
 * symbol is then used, returned as ``symbol``.
 */
export async function poll(wanted) {
  const catalog = await settle(getJson("/catalog"));
  const symbol = wanted || catalog.data?.symbols?.[0] || null;
  const series = catalog.data?.series || [];
  const sym = symbol ? encodeURIComponent(symbol) : null;
  const parts = {
    alerts: getJson("/alerts", { limit: 50 }),
    whales: getJson("/alerts", { type: "whale_trade", limit: 25 }),
    health: getJson("/health"),
  };
  if (sym) {
    parts.metrics = getJson(`/metrics/${sym}`);
    for (const s of series) parts[`series:${s.name}`] = getJson(`/series/${s.name}/${sym}`, { limit: 180 });
  }
  const keys = Object.keys(parts);
  const settled = await Promise.all(Object.values(parts).map(settle));
  const out = Object.fromEntries(keys.map((k, i) => [k, settled[i]]));
  out.series = Object.fromEntries(series.map((s) => [s.name, out[`series:${s.name}`] || {}]));
  return { ...out, catalog, symbol };
}
