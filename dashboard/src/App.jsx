import { useCallback, useEffect, useRef, useState } from "react";
import { poll } from "./api.js";
import {
  AlertFeed,
  Header,
  MetricStrip,
  SpreadChart,
  SystemHealth,
  VolumeChart,
  WhaleLog,
} from "./components.jsx";

export const POLL_MS = 10_000;
const DEFAULT_SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"];
export const DISCLAIMER = "For educational and analytical purposes only. Not financial advice.";

export default function App() {
  const [symbol, setSymbol] = useState(
    () => new URLSearchParams(window.location.search).get("symbol") || DEFAULT_SYMBOLS[0],
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
    const allFailed = Object.values(result).every((r) => r.error);
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
  const seen = new Set([...DEFAULT_SYMBOLS, symbol]); // a ?symbol= of the URL too
  for (const a of state.alerts?.data?.alerts || []) if (a.symbol) seen.add(a.symbol);
  const symbols = [...seen].sort();

  return (
    <div className="mx-auto max-w-[1500px] space-y-4 p-4 text-slate-100">
      <Header
        live={live}
        onToggle={() => setLive((v) => !v)}
        lastUpdated={lastUpdated}
        dataUpdated={state.metrics?.data?.updated_at}
        error={failed}
        health={state.health?.data}
        symbol={symbol}
        symbols={symbols}
        onSymbol={setSymbol}
      />
      <p
        data-testid="disclaimer"
        className="rounded-md border border-amber-700/50 bg-amber-950/40 px-3 py-1.5 text-center text-xs text-amber-200"
      >
        {DISCLAIMER}
      </p>
      <MetricStrip metrics={state.metrics?.data} error={state.metrics?.error} loading={loading} />
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <VolumeChart symbol={symbol} series={state.volume?.data} error={state.volume?.error} loading={loading} />
          <SpreadChart symbol={symbol} series={state.spread?.data} error={state.spread?.error} loading={loading} />
          <WhaleLog alerts={state.whales?.data?.alerts} error={state.whales?.error} loading={loading} />
        </div>
        <div className="space-y-4">
          <SystemHealth health={state.health?.data} error={state.health?.error} loading={loading} />
          <AlertFeed alerts={state.alerts?.data?.alerts} error={state.alerts?.error} loading={loading} />
        </div>
      </div>
      <footer className="border-t border-slate-800 pt-3 text-center text-xs text-slate-500">
        Coat Tail Capital · public market data from Binance and Coinbase · polls every{" "}
        {POLL_MS / 1000} s · {DISCLAIMER}
      </footer>
    </div>
  );
}
