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

// An exchange's name in words: binance-futures → "Binance futures". (Alert types and
// series come with their labels from GET /api/catalog; exchanges are only names.)
export const exchangeLabel = (name) => {
  const words = String(name).split(/[-_\s]+/).filter(Boolean);
  if (words.length === 0) return String(name);
  return [words[0][0].toUpperCase() + words[0].slice(1), ...words.slice(1)].join(" ");
};

// "a", "a and b", "a, b and c".
export const listInWords = (items) =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;

// A series value in its unit (from the catalog): % as a signed percentage, else a number.
export const fmtValue = (v, unit = "", missing = "n/a") => {
  if (v == null || Number.isNaN(v)) return missing;
  if (unit === "%") return fmtPct(v, 3, missing);
  const text = Math.abs(v) >= 10_000 ? fmtCompact(v, missing) : fmtNum(v, 2, missing);
  return unit ? `${text} ${unit}` : text;
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
