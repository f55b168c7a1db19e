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
  exchangeLabel,
  fmtCompact,
  fmtMoney,
  fmtNum,
  fmtTime,
  fmtValue,
  hhmm,
  hhmmss,
  jobState,
  listInWords,
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

// What the running detectors find, from the catalog: "Volume spikes, whale trades and
// cross-exchange spread, streamed from Binance and Coinbase."
function aboutLine(catalog) {
  const titles = (catalog.detectors || [])
    .filter((d) => d.mode !== "batch")
    .map((d, i) => (i > 0 && /^[A-Z][a-z]/.test(d.title) ? d.title[0].toLowerCase() + d.title.slice(1) : d.title));
  if (titles.length === 0) return "Market anomalies from the running detectors.";
  const from = (catalog.exchanges || []).map(exchangeLabel);
  return `${listInWords(titles)}${from.length ? `, streamed from ${listInWords(from)}` : ""}.`;
}

export function Header({ live, onToggle, lastUpdated, dataUpdated, error, health, symbol, symbols, onSymbol, catalog }) {
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
        <p data-testid="about" className="text-xs text-slate-500">
          {aboutLine(catalog || {})}
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

export function MetricStrip({ metrics, error, loading, exchanges, series }) {
  const m = metrics || {};
  const price = m.current_price || {};
  const vol = m.volume_1h || {};
  // the catalog's exchanges (the quality rules'); without a catalog, those with prices
  const names = exchanges.length ? exchanges : Object.keys(price).sort();
  const traded = names.filter((e) => vol[e] != null);
  const items = [
    ...names.map((e) => [exchangeLabel(e), fmtMoney(price[e], "no trades")]),
    // each published series metric (e.g. MOD-003's spread_pct), labelled by its series
    ...series
      .filter((s) => s.metric)
      .map((s) => [exchangeLabel(s.name), fmtValue(m[s.metric], s.unit, "no value yet")]),
    ["1 h volume", traded.length ? traded.map((e) => fmtCompact(vol[e], "0")).join(" / ") : "0"],
    ["Anomalies 24 h", fmtNum(m.anomaly_count_24h, 0, "0")],
  ].map(([label, value]) => [label, loading ? "loading…" : error ? "n/a" : value]);
  return (
    <div data-testid="metrics" className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
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

export function AlertFeed({ alerts, error, loading, labels }) {
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
              <span className="font-semibold text-slate-200">{labels[a.alert_type] || a.alert_type}</span>
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

const EXCHANGE_COLOR = { binance: "#eab308", coinbase: "#3b82f6", "binance-futures": "#a855f7" };
const OTHER_COLORS = ["#22c55e", "#f472b6", "#f97316", "#14b8a6", "#e2e8f0"];
const LINE_COLOR = "#22d3ee";

/** A color per exchange: the known ones, then a palette in the catalog's order. */
function colorOf(exchange, exchanges) {
  if (EXCHANGE_COLOR[exchange]) return EXCHANGE_COLOR[exchange];
  const i = Math.max(0, exchanges.indexOf(exchange));
  return OTHER_COLORS[i % OTHER_COLORS.length];
}

/**
 * Rows of a series (one per window, and per exchange when the series has one) as one point
 * per window: the value of each exchange under its name (or "value"), their total, and
 * the marker (at the total) where an alert marked the window.
 */
export function pivotSeries(windows, perExchange) {
  const byStart = new Map();
  for (const w of windows || []) {
    const p = byStart.get(w.window_start) || { t: w.window_start, label: hhmm(w.window_start), total: null };
    const key = perExchange ? w.exchange || "all" : "value";
    p[key] = w.value;
    if (w.value != null) p.total = (p.total || 0) + w.value;
    if (w.anomaly) p.anomalies = [...(p.anomalies || []), perExchange ? `${w.exchange} ${w.anomaly}` : w.anomaly];
    byStart.set(w.window_start, p);
  }
  const points = [...byStart.values()];
  for (const p of points) p.marked = p.anomalies ? p.total : null;
  return points;
}

function SeriesTooltip({ active, payload, keys, unit }) {
  if (!active || !payload?.length) return null;
  const p = payload[0].payload;
  return (
    <div className="rounded border border-slate-700 bg-slate-900 px-2 py-1 text-xs text-slate-200">
      <div className="font-semibold">{fmtTime(p.t)}</div>
      {keys.map((k) => (
        <div key={k}>
          {k === "value" ? "" : `${k} `}
          {fmtValue(p[k], unit)}
        </div>
      ))}
      {p.anomalies && <div className="text-red-300">alert: {p.anomalies.join(", ")}</div>}
    </div>
  );
}

/** Why a chart has nothing to draw, in words the catalog gives. */
function emptyText(info, symbol, windows, loading, error) {
  const noun = info.name.replaceAll("_", " ");
  if (loading) return "Loading…";
  if (error) return `No chart: the ${noun} series could not be loaded.`;
  if (windows.length === 0) {
    const per = info.window ? `one per ${info.window} window` : "one per row";
    return (
      `No ${noun} windows for ${symbol} yet: the ${info.detector} detector (${info.module}) writes ` +
      `${per}${info.per_exchange ? ", per exchange," : ""} when the window closes.`
    );
  }
  const n = windows.length;
  return (
    `No ${noun} for ${symbol}: ${info.missing || "its windows have no value"} ` +
    `(${n} window${n === 1 ? "" : "s"} had no value).`
  );
}

/**
 * One published chart series (GET /api/catalog "series", rows from /api/series/{name}):
 * stacked bars per exchange or lines, alert markers as red dots, guide lines.
 */
export function SeriesChart({ info, symbol, series, error, loading, labels, exchanges }) {
  const windows = series?.windows || [];
  const perExchange = !!info.per_exchange;
  const points = pivotSeries(windows, perExchange).filter((p) => p.total != null);
  const seenExchanges = [...new Set(windows.map((w) => w.exchange || "all"))];
  const keys = perExchange
    ? [...exchanges.filter((e) => seenExchanges.includes(e)), ...seenExchanges.filter((e) => !exchanges.includes(e))]
    : ["value"];
  const marked = points.filter((p) => p.marked != null).length;
  const markerWords = (info.markers || []).map((m) => labels[m] || m);
  const guides = info.guides || [];
  const subtitle =
    info.description +
    (markerWords.length ? `; red dots mark ${listInWords(markerWords).toLowerCase()} alerts` : "") +
    (guides.some((g) => g !== 0) ? `; dashed lines at ${guides.filter((g) => g !== 0).map((g) => fmtValue(g, info.unit)).join(", ")}` : "");
  const last = points.length ? points[points.length - 1].total : null;
  const bars = info.chart === "bars";
  const Chart = bars ? ComposedChart : LineChart;
  const height = bars ? "h-64" : "h-56";
  return (
    <Card
      title={`${info.label} · ${symbol}`}
      subtitle={subtitle}
      testid={`${info.name}-chart`}
      right={
        points.length > 0 && (
          <span className="text-xs text-slate-400">
            {bars ? `${marked} alert${marked === 1 ? "" : "s"} shown` : `latest ${fmtValue(last, info.unit)}`}
          </span>
        )
      }
    >
      <Problem error={error} />
      {points.length === 0 ? (
        <ChartEmpty height={height}>{emptyText(info, symbol, windows, loading, error)}</ChartEmpty>
      ) : (
        <div className={height}>
          <ResponsiveContainer width="100%" height="100%">
            <Chart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#1e293b" vertical={false} />
              <XAxis dataKey="label" tick={{ fill: "#94a3b8", fontSize: 11 }} minTickGap={bars ? 28 : 40} />
              <YAxis
                tickFormatter={(v) => (info.unit === "%" ? `${v.toFixed(2)}%` : fmtCompact(v))}
                tick={{ fill: "#94a3b8", fontSize: 11 }}
                width={56}
              />
              <Tooltip content={<SeriesTooltip keys={keys} unit={info.unit} />} cursor={{ fill: "#33415555" }} />
              {perExchange && <Legend wrapperStyle={{ fontSize: 12 }} />}
              {guides.map((g) => (
                <ReferenceLine
                  key={g}
                  y={g}
                  stroke={g === 0 ? "#475569" : "#f97316"}
                  strokeDasharray={g === 0 ? undefined : "4 4"}
                />
              ))}
              {keys.map((k) =>
                bars ? (
                  <Bar key={k} dataKey={k} name={k === "value" ? info.label : k} stackId="v" fill={k === "value" ? LINE_COLOR : colorOf(k, exchanges)} isAnimationActive={false} />
                ) : (
                  <Line
                    key={k}
                    dataKey={k}
                    name={k === "value" ? info.label : k}
                    stroke={k === "value" ? LINE_COLOR : colorOf(k, exchanges)}
                    dot={false}
                    strokeWidth={1.5}
                    isAnimationActive={false}
                  />
                ),
              )}
              <Line
                dataKey="marked"
                name={markerWords.length ? listInWords(markerWords).toLowerCase() : "alert"}
                stroke="#ef4444"
                strokeWidth={0}
                legendType="circle"
                dot={{ r: 4, fill: "#ef4444", stroke: "#fecaca", strokeWidth: 1 }}
                activeDot={false}
                isAnimationActive={false}
                connectNulls={false}
              />
            </Chart>
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
