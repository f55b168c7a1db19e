import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import {
  SEVERITY_STYLE,
  TYPE_LABEL,
  fmtCompact,
  fmtMoney,
  fmtNum,
  fmtPct,
  fmtTime,
  hhmm,
  hhmmss,
  jobState,
} from "./format.js";

export function Card({ title, subtitle, testid, children, className = "", right = null }) {
  return (
    <section
      data-testid={testid}
      className={`rounded-xl border border-slate-800 bg-slate-900/70 p-4 shadow-sm ${className}`}
    >
      <div className="mb-3 flex items-baseline justify-between gap-2">
        <div>
          <h2 className="text-sm font-semibold uppercase tracking-wide text-slate-300">{title}</h2>
          {subtitle && <p className="text-xs text-slate-500">{subtitle}</p>}
        </div>
        {right}
      </div>
      {children}
    </section>
  );
}

export function Problem({ error }) {
  return error ? <p className="text-sm text-red-400">Could not load: {error}</p> : null;
}

/** Shown until the first answer of the API arrives (instead of empty values). */
export function Loading() {
  return (
    <p data-testid="loading" className="animate-pulse text-sm text-slate-500">
      Loading…
    </p>
  );
}

/** A chart with nothing to draw: a frame of the chart's height that says why. */
export function ChartEmpty({ height, children }) {
  return (
    <div
      data-testid="chart-empty"
      className={`flex ${height} items-center justify-center rounded-lg border border-dashed border-slate-700 px-6 text-center text-sm text-slate-400`}
    >
      <p>{children}</p>
    </div>
  );
}

// The badge's dot per job state (jobState) or polling state.
const BADGE_DOT = {
  live: "bg-emerald-400 animate-pulse",
  stopped: "bg-sky-400",
  stale: "bg-amber-400",
  none: "bg-slate-500",
  loading: "bg-slate-500 animate-pulse",
  paused: "bg-slate-500",
  offline: "bg-red-500",
};

export function Badge({ severity }) {
  const style = SEVERITY_STYLE[severity] || SEVERITY_STYLE.low;
  return (
    <span
      data-testid="severity-badge"
      className={`inline-block rounded px-1.5 py-0.5 text-[10px] font-bold uppercase ring-1 ${style}`}
    >
      {severity || "n/a"}
    </span>
  );
}

export function Header({ live, onToggle, lastUpdated, dataUpdated, error, health, symbol, symbols, onSymbol }) {
  // polling paused or the API unreachable first; else the job's own state (as in System health)
  const job = jobState(health);
  const state = !live ? "paused" : error ? "offline" : job.key === "running" ? "live" : job.key;
  const label = { paused: "Paused", offline: "Offline" }[state] || job.badge;
  const dot = BADGE_DOT[state];
  return (
    <header
      data-testid="header"
      className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-800 pb-4"
    >
      <div>
        <h1 className="text-2xl font-bold tracking-tight text-white">
          Coat Tail Capital <span className="font-normal text-slate-400">· market anomalies</span>
        </h1>
        <p className="text-xs text-slate-500">
          Volume spikes, whale trades and cross-exchange spreads, streamed from Binance and Coinbase.
        </p>
      </div>
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <label className="flex items-center gap-2 text-slate-400">
          Symbol
          <select
            data-testid="symbol-select"
            value={symbol}
            onChange={(e) => onSymbol(e.target.value)}
            className="rounded-md border border-slate-700 bg-slate-800 px-2 py-1 text-slate-100"
          >
            {symbols.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button
          data-testid="live-indicator"
          data-state={state}
          onClick={onToggle}
          title={`${live ? "Pause polling" : "Resume polling (every 10 s)"}; job ${job.word}`}
          className="flex items-center gap-2 rounded-full border border-slate-700 bg-slate-800 px-3 py-1 font-medium text-slate-100 hover:bg-slate-700"
        >
          <span className={`h-2.5 w-2.5 rounded-full ${dot}`} />
          {label}
        </button>
        <div className="text-right text-xs text-slate-400" data-testid="last-updated">
          <div>
            Last updated{" "}
            <span className="text-slate-200">{lastUpdated ? fmtTime(lastUpdated) : "loading…"}</span>
          </div>
          <div>data as of {lastUpdated ? fmtTime(dataUpdated, false, "no data yet") : "loading…"}</div>
        </div>
      </div>
    </header>
  );
}

export function MetricStrip({ metrics, error, loading }) {
  const m = metrics || {};
  const price = m.current_price || {};
  const vol = m.volume_1h || {};
  const items = [
    ["Binance", fmtMoney(price.binance, "no trades")],
    ["Coinbase", fmtMoney(price.coinbase, "no trades")],
    ["Spread", fmtPct(m.spread_pct, 3, "needs both")],
    ["1 h volume", `${fmtCompact(vol.binance, "0")} / ${fmtCompact(vol.coinbase, "0")}`],
    ["Anomalies 24 h", fmtNum(m.anomaly_count_24h, 0, "0")],
  ].map(([label, value]) => [label, loading ? "loading…" : error ? "n/a" : value]);
  return (
    <div data-testid="metrics" className="grid grid-cols-2 gap-3 sm:grid-cols-5">
      {items.map(([label, value]) => (
        <div key={label} className="rounded-lg border border-slate-800 bg-slate-900/70 px-3 py-2">
          <div className="text-[11px] uppercase tracking-wide text-slate-500">{label}</div>
          <div className="text-lg font-semibold text-slate-100">{value}</div>
        </div>
      ))}
      <div className="col-span-full">
        <Problem error={error} />
      </div>
    </div>
  );
}

export function AlertFeed({ alerts, error, loading }) {
  return (
    <Card title="Alert feed" subtitle="Newest first, all symbols" testid="alert-feed" className="flex flex-col">
      {loading && <Loading />}
      <Problem error={error} />
      {alerts && alerts.length === 0 && <p className="text-sm text-slate-500">No alerts yet.</p>}
      <ul className="max-h-[560px] space-y-2 overflow-y-auto pr-1">
        {(alerts || []).map((a) => (
          <li key={a.alert_id} data-testid="alert-item" className="rounded-lg border border-slate-800 bg-slate-950/60 p-2">
            <div className="flex items-center gap-2 text-xs">
              <Badge severity={a.severity} />
              <span className="font-semibold text-slate-200">{TYPE_LABEL[a.alert_type] || a.alert_type}</span>
              <span className="text-slate-400">{a.symbol}</span>
              {a.exchange && <span className="text-slate-500">{a.exchange}</span>}
              <span className="ml-auto text-slate-500">{hhmmss(a.detected_at)}</span>
            </div>
            <p data-testid="alert-message" className="mt-1 text-sm leading-snug text-slate-300">
              {a.message}
            </p>
          </li>
        ))}
      </ul>
    </Card>
  );
}

const EXCHANGE_COLOR = { binance: "#eab308", coinbase: "#3b82f6" };

/** Pivot rows (one per window and exchange) into one point per window. */
export function pivotVolume(windows) {
  const byStart = new Map();
  for (const w of windows || []) {
    const p = byStart.get(w.window_start) || { t: w.window_start, label: hhmm(w.window_start), total: 0 };
    p[w.exchange || "all"] = w.value;
    p.total += w.value || 0;
    if (w.anomaly) p.anomalies = [...(p.anomalies || []), `${w.exchange} ${w.anomaly}`];
    byStart.set(w.window_start, p);
  }
  const points = [...byStart.values()];
  for (const p of points) p.spike = p.anomalies ? p.total : null;
  return points;
}

function VolumeTooltip({ active, payload }) {
  if (!active || !payload?.length) return null;
  const p = payload[0].payload;
  return (
    <div className="rounded border border-slate-700 bg-slate-900 px-2 py-1 text-xs text-slate-200">
      <div className="font-semibold">{fmtTime(p.t)}</div>
      <div>binance {fmtCompact(p.binance)}</div>
      <div>coinbase {fmtCompact(p.coinbase)}</div>
      {p.anomalies && <div className="text-red-300">spike: {p.anomalies.join(", ")}</div>}
    </div>
  );
}

export function VolumeChart({ symbol, series, error, loading }) {
  const points = pivotVolume(series?.windows);
  const spikes = points.filter((p) => p.spike != null).length;
  return (
    <Card
      title={`Volume · ${symbol}`}
      subtitle="Quote volume per 60 s window and exchange; red dots mark volume_spike alerts"
      testid="volume-chart"
      right={points.length > 0 && <span className="text-xs text-slate-400">{spikes} spikes shown</span>}
    >
      <Problem error={error} />
      {points.length === 0 ? (
        <ChartEmpty height="h-64">
          {loading
            ? "Loading…"
            : error
              ? "No chart: the volume series could not be loaded."
              : `No volume windows for ${symbol} yet: the volume detector (MOD-001) writes one per ` +
                "60 s window of trades, per exchange, when the window closes."}
        </ChartEmpty>
      ) : (
      <div className="h-64">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#1e293b" vertical={false} />
            <XAxis dataKey="label" tick={{ fill: "#94a3b8", fontSize: 11 }} minTickGap={28} />
            <YAxis tickFormatter={fmtCompact} tick={{ fill: "#94a3b8", fontSize: 11 }} width={52} />
            <Tooltip content={<VolumeTooltip />} cursor={{ fill: "#33415555" }} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="binance" stackId="v" fill={EXCHANGE_COLOR.binance} isAnimationActive={false} />
            <Bar dataKey="coinbase" stackId="v" fill={EXCHANGE_COLOR.coinbase} isAnimationActive={false} />
            <Line
              dataKey="spike"
              name="volume spike"
              stroke="#ef4444"
              strokeWidth={0}
              legendType="circle"
              dot={{ r: 4, fill: "#ef4444", stroke: "#fecaca", strokeWidth: 1 }}
              activeDot={false}
              isAnimationActive={false}
              connectNulls={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      )}
    </Card>
  );
}

export function SpreadChart({ symbol, series, error, loading }) {
  const windows = series?.windows || [];
  const points = windows.filter((w) => w.value != null).map((w) => ({
    t: w.window_start,
    label: hhmmss(w.window_start),
    spread: w.value,
    divergence: w.anomaly ? w.value : null,
  }));
  const last = points.length ? points[points.length - 1].spread : null;
  return (
    <Card
      title={`Spread tracker · ${symbol}`}
      subtitle="(Binance − Coinbase) / Coinbase VWAP per 30 s window, in %; ±0.5 % alerts"
      testid="spread-chart"
      right={points.length > 0 && <span className="text-xs text-slate-400">latest {fmtPct(last)}</span>}
    >
      <Problem error={error} />
      {points.length === 0 ? (
        <ChartEmpty height="h-56">
          {loading
            ? "Loading…"
            : error
              ? "No chart: the spread series could not be loaded."
              : `No spread for ${symbol}: a spread needs trades on both Binance and Coinbase in the ` +
                "same 30 s window" +
                (windows.length
                  ? ` (${windows.length} window${windows.length === 1 ? "" : "s"} had trades on one exchange only).`
                  : "; none has come yet.")}
        </ChartEmpty>
      ) : (
      <div className="h-56">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#1e293b" vertical={false} />
            <XAxis dataKey="label" tick={{ fill: "#94a3b8", fontSize: 11 }} minTickGap={40} />
            <YAxis tickFormatter={(v) => `${v.toFixed(2)}%`} tick={{ fill: "#94a3b8", fontSize: 11 }} width={56} />
            <Tooltip
              formatter={(v) => fmtPct(v)}
              labelStyle={{ color: "#0f172a" }}
              contentStyle={{ background: "#0f172a", border: "1px solid #334155", fontSize: 12 }}
            />
            <ReferenceLine y={0.5} stroke="#f97316" strokeDasharray="4 4" />
            <ReferenceLine y={-0.5} stroke="#f97316" strokeDasharray="4 4" />
            <ReferenceLine y={0} stroke="#475569" />
            <Line dataKey="spread" name="spread %" stroke="#22d3ee" dot={false} strokeWidth={1.5} isAnimationActive={false} />
            <Line
              dataKey="divergence"
              name="divergence"
              stroke="#ef4444"
              strokeWidth={0}
              dot={{ r: 4, fill: "#ef4444" }}
              activeDot={false}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
      )}
    </Card>
  );
}

export function WhaleLog({ alerts, error, loading }) {
  return (
    <Card title="Whale log" subtitle="Single trades above 100,000 quote volume (MOD-002)" testid="whale-log">
      {loading && <Loading />}
      <Problem error={error} />
      <div className="max-h-80 overflow-y-auto">
        <table className="w-full text-left text-sm">
          <thead className="sticky top-0 bg-slate-900 text-xs uppercase text-slate-500">
            <tr>
              <th className="py-1 pr-2 font-medium">Time</th>
              <th className="pr-2 font-medium">Symbol</th>
              <th className="pr-2 font-medium">Exchange</th>
              <th className="pr-2 font-medium">Side</th>
              <th className="pr-2 text-right font-medium">Size</th>
              <th className="pr-2 text-right font-medium">Price</th>
              <th className="pr-2 text-right font-medium">Value</th>
              <th className="font-medium">Severity</th>
            </tr>
          </thead>
          <tbody>
            {!loading && (alerts || []).length === 0 && (
              <tr>
                <td colSpan={8} className="py-2 text-slate-500">No whale trades yet.</td>
              </tr>
            )}
            {(alerts || []).map((a) => {
              const d = a.details || {};
              return (
                <tr key={a.alert_id} data-testid="whale-row" className="border-t border-slate-800 text-slate-300">
                  <td className="py-1 pr-2 text-slate-400">{hhmmss(a.detected_at)}</td>
                  <td className="pr-2">{a.symbol}</td>
                  <td className="pr-2">{a.exchange}</td>
                  <td className={`pr-2 font-semibold ${d.side === "buy" ? "text-emerald-400" : "text-red-400"}`}>
                    {d.side || "n/a"}
                  </td>
                  <td className="pr-2 text-right">{fmtNum(d.quantity, 4)}</td>
                  <td className="pr-2 text-right">{fmtMoney(d.price)}</td>
                  <td className="pr-2 text-right font-medium text-slate-100">{fmtCompact(d.quote_volume)}</td>
                  <td>
                    <Badge severity={a.severity} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

export function SystemHealth({ health, error, loading }) {
  const h = health || {};
  const job = jobState(health);
  const q = h.quality_score;
  const m = h.metrics || {};
  const t = h.totals || {};
  const none = job.key === "none" ? "none yet" : "n/a";
  const items = [
    ["Job status", job.word, "health-job", job.key === "running" ? "text-emerald-400" : "text-amber-300"],
    ["Stream lag", fmtNum(h.source_lag_seconds, 1, none) + (h.source_lag_seconds == null ? "" : " s"), "health-lag"],
    ["Records processed", fmtNum(h.records_processed, 0, none), "health-records"],
    ["Quality score", q == null ? none : `${q.toFixed(2)}%`, "health-quality", q != null && q < 95 ? "text-red-400" : ""],
    ["Pending files", fmtNum(h.pending_files, 0, none), "health-pending"],
    ["Last batch", h.batch_id == null ? none : `#${h.batch_id} · ${fmtNum(h.age_seconds, 0)} s ago`, "health-batch"],
    gapsItem(h.gaps, none),
  ];
  return (
    <Card title="System health" subtitle={`Streaming runtime "${h.app || "ctc"}", last micro-batch`} testid="system-health">
      <Problem error={error} />
      {loading ? (
        <Loading />
      ) : (
        <dl className="grid grid-cols-2 gap-3">
          {items.map(([label, value, id, color = ""]) => (
            <div key={id} className="rounded-lg bg-slate-950/60 p-2">
              <dt className="text-[11px] uppercase tracking-wide text-slate-500">{label}</dt>
              <dd data-testid={id} className={`text-lg font-semibold text-slate-100 ${color}`}>
                {value}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {h.metrics && h.batch_id != null && (
        <p data-testid="health-batches" className="mt-3 text-xs text-slate-500">
          Last batch (#{h.batch_id}): {fmtNum(m.processed)} processed, {fmtNum(m.passed)} passed,{" "}
          {fmtNum(m.failed)} dead letters, {fmtNum(m.late)} late, {fmtNum(m.duplicates)} duplicates.
          {t.batches != null &&
            ` Whole run: ${fmtNum(t.processed)} processed in ${fmtNum(t.batches)} batches, ` +
              `${fmtNum(t.alerts)} alerts.`}
          {job.key === "stopped" && " The run has finished: these figures are final."}
        </p>
      )}
      <GapList gaps={h.gaps} />
    </Card>
  );
}

// Trade-id gaps the ingest recorded: red while any trade could not be backfilled.
function gapsItem(g, none) {
  if (!g) return ["Trade gaps", none, "health-gaps"];
  const lost = (g.unfilled || 0) > 0 || (g.open || 0) > 0;
  const text =
    g.gaps === 0
      ? "none"
      : `${fmtNum(g.gaps)} · ${fmtNum(g.backfilled)} backfilled` +
        (lost ? ` · ${fmtNum(g.unfilled)} lost${g.open ? ` + ${fmtNum(g.open)} open` : ""}` : "");
  return ["Trade gaps", text, "health-gaps", lost ? "text-red-400" : ""];
}

function GapList({ gaps }) {
  const latest = gaps?.latest || [];
  if (latest.length === 0) return null;
  return (
    <ul data-testid="health-gap-list" className="mt-3 space-y-1 text-xs text-red-300">
      {latest.map((g) => (
        <li key={g.gap_id}>
          {g.exchange} {g.market} ({g.instrument}):{" "}
          {g.missing == null ? "trades after a lost connection" : `${fmtNum(g.unfilled)} of ${fmtNum(g.missing)} trades`}{" "}
          not backfilled ({g.reason})
        </li>
      ))}
    </ul>
  );
}
