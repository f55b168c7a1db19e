const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });
const money = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });

// A missing value is said in words ("n/a", or what the caller passes), never as a dash.
export const fmtCompact = (v, missing = "n/a") =>
  v == null || Number.isNaN(v) ? missing : compact.format(v);
export const fmtMoney = (v, missing = "n/a") => (v == null ? missing : money.format(v));
export const fmtPct = (v, d = 3, missing = "n/a") =>
  v == null ? missing : `${v >= 0 ? "+" : ""}${v.toFixed(d)}%`;
export const fmtNum = (v, d = 0, missing = "n/a") =>
  v == null ? missing : Number(v).toLocaleString("en-US", { maximumFractionDigits: d });

export function fmtTime(iso, withDate = false, missing = "n/a") {
  if (!iso) return missing;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "UTC" };
  if (withDate) Object.assign(opts, { month: "short", day: "2-digit" });
  return `${d.toLocaleString("en-GB", opts)} UTC`;
}

export const hhmm = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 16);
};

export const hhmmss = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 19);
};

export const SEVERITY_STYLE = {
  low: "bg-slate-700 text-slate-200 ring-slate-500",
  medium: "bg-amber-500/20 text-amber-300 ring-amber-500/50",
  high: "bg-orange-600/25 text-orange-300 ring-orange-500/60",
  critical: "bg-red-600/30 text-red-200 ring-red-500/70",
};

export const TYPE_LABEL = {
  volume_spike: "Volume spike",
  whale_trade: "Whale trade",
  spread_divergence: "Spread divergence",
};

/**
 * The streaming job's state from GET /health, one answer for the header's badge and the
 * health panel: running, stopped (the run finished: its data is final), stale (the job
 * says it runs but no micro-batch came for minutes) or none (no run has reported yet).
 */
export function jobState(health) {
  if (!health) return { key: "loading", word: "loading", badge: "Loading…" };
  if (health.job_status === "no data" || health.updated_at == null)
    return { key: "none", word: "no run yet", badge: "No run yet" };
  if (health.query_status === "stopped")
    return { key: "stopped", word: "stopped", badge: "Run finished" };
  if (health.job_status === "stale") return { key: "stale", word: "stale", badge: "Stale" };
  return { key: "running", word: "running", badge: "Live" };
}
