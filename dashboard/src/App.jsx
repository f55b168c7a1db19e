import { useCallback, useEffect, useRef, useState } from "react";
import { poll } from "./api.js";
import {
  AlertFeed,
  Header,
  MetricStrip,
  SeriesChart,
  SystemHealth,
  WhaleLog,
} from "./components.jsx";
import { exchangeLabel, listInWords } from "./format.js";

export const POLL_MS = 10_000;
export const DISCLAIMER = "For educational and analytical purposes only. Not financial advice.";

// The parts of a poll that are API answers ({data} or {error}).
const ANSWERS = ["catalog", "alerts", "whales", "metrics", "health"];

export default function App() {
  // null until the catalog names the symbols (the quality rules'), unless the URL says
  const [symbol, setSymbol] = useState(
    () => new URLSearchParams(window.location.search).get("symbol") || null,
  );
  const [live, setLive] = useState(true);
  const [state, setState] = useState({});
  const [lastUpdated, setLastUpdated] = useState(null);
  const [failed, setFailed] = useState(null);
  const symbolRef = useRef(symbol);
  symbolRef.current = symbol;

  const refresh = useCallback(async () => {
    const wanted = symbolRef.current;
    const result = await poll(wanted);
    if (symbolRef.current !== wanted) return; // a newer symbol was chosen meanwhile
    setState(result);
    if (!wanted && result.symbol) setSymbol(result.symbol);
    const answers = [...ANSWERS.map((k) => result[k]), ...Object.values(result.series || {})];
    const allFailed = answers.filter(Boolean).every((r) => r.error);
    setFailed(allFailed ? "API unreachable" : null);
    if (!allFailed) setLastUpdated(new Date().toISOString());
  }, []);

  useEffect(() => {
    refresh();
  }, [symbol, refresh]);

  useEffect(() => {
    if (!live) return undefined;
    const id = setInterval(refresh, POLL_MS);
    return () => clearInterval(id);
  }, [live, refresh]);

  // until the first poll answers, every section says it is loading (not an empty value)
  const loading = Object.keys(state).length === 0;
  const catalog = state.catalog?.data || {};
  const seen = new Set(catalog.symbols || []);
  if (symbol) seen.add(symbol); // a ?symbol= of the URL too
  for (const a of state.alerts?.data?.alerts || []) if (a.symbol) seen.add(a.symbol);
  const symbols = [...seen].sort();
  const labels = Object.fromEntries((catalog.alert_types || []).map((t) => [t.type, t.label]));
  const exchanges = catalog.exchanges || [];
  const shown = symbol || "…";

  return (
    <div className="mx-auto max-w-[1500px] space-y-4 p-4 text-slate-100">
      <Header
        live={live}
        onToggle={() => setLive((v) => !v)}
        lastUpdated={lastUpdated}
        dataUpdated={state.metrics?.data?.updated_at}
        error={failed}
        health={state.health?.data}
        symbol={symbol || ""}
        symbols={symbols}
        onSymbol={setSymbol}
        catalog={catalog}
      />
      <p
        data-testid="disclaimer"
        className="rounded-md border border-amber-700/50 bg-amber-950/40 px-3 py-1.5 text-center text-xs text-amber-200"
      >
        {DISCLAIMER}
      </p>
      <MetricStrip
        metrics={state.metrics?.data}
        error={state.metrics?.error}
        loading={loading}
        exchanges={exchanges}
        series={catalog.series || []}
      />
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          {(catalog.series || []).map((s) => (
            <SeriesChart
              key={s.name}
              info={s}
              symbol={shown}
              series={state.series?.[s.name]?.data}
              error={state.series?.[s.name]?.error}
              loading={loading}
              labels={labels}
              exchanges={exchanges}
            />
          ))}
          <WhaleLog alerts={state.whales?.data?.alerts} error={state.whales?.error} loading={loading} />
        </div>
        <div className="space-y-4">
          <SystemHealth health={state.health?.data} error={state.health?.error} loading={loading} />
          <AlertFeed alerts={state.alerts?.data?.alerts} error={state.alerts?.error} loading={loading} labels={labels} />
        </div>
      </div>
      <footer className="border-t border-slate-800 pt-3 text-center text-xs text-slate-500">
        Coat Tail Capital
        {exchanges.length > 0 && ` · public market data from ${listInWords(exchanges.map(exchangeLabel))}`} ·
        polls every {POLL_MS / 1000} s · {DISCLAIMER}
      </footer>
    </div>
  );
}
