const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });
const money = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });

export const fmtCompact = (v) => (v == null || Number.isNaN(v) ? "–" : compact.format(v));
export const fmtMoney = (v) => (v == null ? "–" : money.format(v));
export const fmtPct = (v, d = 3) => (v == null ? "–" : `${v >= 0 ? "+" : ""}${v.toFixed(d)}%`);
export const fmtNum = (v, d = 0) =>
  v == null ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: d });

export function fmtTime(iso, withDate = false) {
  if (!iso) return "–";
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
