// The risk desk's dashboard. The page holds no data: it asks for a reader's token, keeps it in
// sessionStorage (gone when the tab closes) and reads the pool through the authenticated API.
// Amounts stay exact: decimal strings, summed as BigInt ledger units (18 decimals); numbers are
// used only to place points on a chart.

import { COLORS, gauge, lineChart, timeline } from './charts.js';

const TOKEN_KEY = 'ledger-reader-token';
const POOL_KEY = 'ledger-pool';
const $ = (id) => document.getElementById(id);

// --- exact decimals -------------------------------------------------------------------------------
const SCALE = 10n ** 18n;
const units = (text) => {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * SCALE + BigInt((fraction + '0'.repeat(18)).slice(0, 18));
  return negative ? -value : value;
};
const decimal = (value) => {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const fraction = (abs % SCALE).toString().padStart(18, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / SCALE}${fraction ? `.${fraction}` : ''}`;
};
const toNumber = (value) => Number(value) / 1e18;
/** A decimal string grouped for reading, cut to `places` decimals (display only). */
const show = (text, places = 2) => {
  const [whole, fraction = ''] = String(text).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cut = fraction.slice(0, places).replace(/0+$/, '');
  return cut ? `${grouped}.${cut}` : grouped;
};
const percentOfPpm = (ppm) => (ppm === null || ppm === undefined ? 'n/a' : `${show(decimal((BigInt(ppm) * SCALE) / 10_000n), 2)}%`);

// --- the API ----------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}
const api = async (path, init = {}) => {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { ...init, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
};
/** The body, or `fallback` when the route answers 404 (not there, or nothing yet). */
const optional = (promise, fallback = null) => promise.catch((error) => {
  if (error instanceof ApiError && error.status === 404) return fallback;
  throw error;
});

// --- small DOM helpers (text only: nothing from the API is parsed as HTML) -------------------------
const h = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const figure = (label, value, id) => h('div', { class: 'figure', ...(id ? { id } : {}) }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value));
const table = (head, rows) => h('table', {}, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, String(c)))))));

// --- reading the pool -----------------------------------------------------------------------------
const EVENT_PAGE = 1000;
const MAX_EVENTS = 20_000;

/** The pool's events (up to MAX_EVENTS), page by page. */
const poolEvents = async (poolId) => {
  const all = [];
  for (let from = 0; all.length < MAX_EVENTS; from += EVENT_PAGE) {
    const page = await api(`/v1/pools/${encodeURIComponent(poolId)}/events?from=${from}&limit=${EVENT_PAGE}`);
    all.push(...page);
    if (page.length < EVENT_PAGE) break;
  }
  return all;
};

/** Tranche balances over time, from the postings into and out of each tranche (bookkeeping only). */
const trancheSeries = (events, trancheIds, xOf) => {
  const balance = new Map(trancheIds.map((id) => [id, 0n]));
  const series = new Map(trancheIds.map((id) => [id, []]));
  for (const event of events) {
    const postings = event.data?.postings ?? [];
    let touched = false;
    for (const posting of postings) {
      for (const [end, sign] of [[posting.from, -1n], [posting.to, 1n]]) {
        if (end?.kind !== 'tranche') continue;
        if (!balance.has(end.trancheId)) { balance.set(end.trancheId, 0n); series.set(end.trancheId, []); }
        balance.set(end.trancheId, balance.get(end.trancheId) + sign * units(posting.amount));
        touched = true;
      }
    }
    if (touched) for (const [id, value] of balance) series.get(id).push([xOf(event), toNumber(value)]);
  }
  return series;
};

const WATERFALL_KINDS = [
  { kind: 'InsuranceFundDrawn', label: 'fund draws', color: '#c2410c' },
  { kind: 'PositionsAutoDeleveraged', label: 'ADL', color: '#7e22ce' },
  { kind: 'LossSocialized', label: 'socialized', color: '#b91c1c' },
  { kind: 'BadDebtRecorded', label: 'bad debt', color: '#111827' },
];
const describeEvent = (event) => {
  const d = event.data;
  switch (event.type) {
    case 'InsuranceFundDrawn': return `fund draw ${show(d.amount, 6)} for ${d.accountId} (${d.draws.map((x) => `${x.trancheId} ${show(x.amount, 6)}${x.writtenOff ? ', written off' : ''}`).join('; ')})`;
    case 'PositionsAutoDeleveraged': return `ADL of ${d.accountId} in ${d.marketId}: ${d.fills.map((f) => `${f.accountId} ${show(f.size, 6)}`).join(', ')}`;
    case 'LossSocialized': return `socialized ${show(d.amount, 6)} for ${d.accountId} (${d.postings.length} accounts)`;
    case 'BadDebtRecorded': return `bad debt ${show(d.amount, 6)} for ${d.accountId}`;
    default: return event.type;
  }
};

// --- rendering ------------------------------------------------------------------------------------
const renderFund = (health, tranches, target) => {
  $('fund').replaceChildren(
    h('div', { class: 'figures' },
      ...tranches.map((t) => figure(`tranche ${t.trancheId}`, show(t.assets), `tranche-${t.trancheId}`)),
      figure('fund assets', show(health.fundAssets), 'fund-assets'),
      figure('open interest', show(health.openInterest), 'open-interest'),
      figure('coverage', `${percentOfPpm(health.coveragePpm)}${target === null ? '' : ` of ${percentOfPpm(target)} target`}`, 'coverage'),
      figure('fund fee share', percentOfPpm(health.fundFeeSharePpm), 'fee-share'),
      figure('draws', `${health.draws.count} (${show(health.draws.total)})`, 'draws'),
      figure('ADL', `${health.adl.count} (${health.adl.fills} fills)`, 'adl'),
      figure('socialized', `${health.socialized.count} (${show(health.socialized.total)})`, 'socialized'),
      figure('bad debt', show(health.badDebt), 'bad-debt'),
    ),
  );
};

/** The pool's target coverage (ppm): from its creation, or the last parameter change that set it. */
const targetCoverage = (events) => {
  let target = null;
  for (const e of events) {
    if (e.type === 'PoolCreated') target = e.data.feeShare.targetCoveragePpm;
    if (e.type === 'ParametersChanged' && e.data.pool?.feeShare) target = e.data.pool.feeShare.targetCoveragePpm;
  }
  return target;
};

/**
 * Over time from the fund-health history (tranches, coverage, fee share per bucket) when the
 * ledger has it; by event, from the tranches' postings, for a log written within a minute or a
 * ledger without the history route.
 */
const renderHistory = (health, points, events, trancheIds) => {
  const times = events.map((e) => e.metadata.timestamp);
  const axis = $('x-axis').value;
  const byEvent = axis === 'event' || (axis === 'auto' && Math.max(...times) - Math.min(...times) < 60_000);
  const xOf = byEvent ? (e) => Number(e.revision) : (e) => e.metadata.timestamp;
  const xLabel = byEvent ? (n) => `event ${Math.round(n)}` : undefined;
  const buckets = points ?? health.series;
  const from = byEvent ? 0 : Math.min(...times, ...buckets.map((p) => p.bucket));
  const to = byEvent ? events.length - 1 : Math.max(...times, ...buckets.map((p) => p.bucket));
  const perTranche = !byEvent && points !== null
    ? new Map(trancheIds.map((id) => [id, points.map((p) => [p.bucket, toNumber(units(p.tranches.find((t) => t.trancheId === id)?.assets ?? '0'))])]))
    : trancheSeries(events, trancheIds, xOf);
  const assets = lineChart({
    title: 'fund assets by tranche',
    series: [...perTranche].map(([id, series], i) => ({ name: id, points: series, color: COLORS[i % COLORS.length] })),
    from, to, xLabel,
  });
  const feeShare = !byEvent && points !== null
    ? { name: 'fund fee share ppm', points: points.map((p) => [p.bucket, p.fundFeeSharePpm]) }
    : { name: 'fund fee share ppm', points: events.filter((e) => e.type === 'TradeExecuted').map((e) => [xOf(e), e.data.fundSharePpm]) };
  const coverage = lineChart({
    title: 'coverage (ppm) and fund fee share (ppm)',
    series: byEvent ? [feeShare] : [{ name: 'coverage ppm', points: buckets.filter((p) => p.coveragePpm !== null).map((p) => [p.bucket, Number(p.coveragePpm)]) }, feeShare],
    from, to, xLabel,
  });
  const target = health.targetCoveragePpm ?? targetCoverage(events);
  const now = health.coveragePpm === null ? 0 : Number(health.coveragePpm);
  const bar = gauge({
    value: now, target, max: Math.max(now, target ?? 0, 1) * 1.25,
    label: `coverage now ${percentOfPpm(health.coveragePpm)}, target ${percentOfPpm(target)}; the fund's fee share ${percentOfPpm(health.fundFeeSharePpm)}`,
  });
  const waterfall = events.filter((e) => WATERFALL_KINDS.some((k) => k.kind === e.type));
  const line = timeline({ events: waterfall.map((e) => ({ timeMs: xOf(e), kind: e.type, label: describeEvent(e) })), kinds: WATERFALL_KINDS, from, to, xLabel });
  $('history').replaceChildren(
    h('h3', {}, `Fund assets by tranche${byEvent ? ' (by event)' : ''}`), assets,
    h('h3', {}, 'Coverage against target, and the fund fee share'), bar, coverage,
    h('h3', {}, 'Draws, ADL, socialization and bad debt'), line,
    h('ol', { class: 'events', id: 'waterfall-events' }, ...waterfall.slice(-20).map((e) => h('li', {}, `${new Date(e.metadata.timestamp).toISOString()} ${describeEvent(e)}`))),
  );
};

const renderAtRisk = (accounts) => {
  if (accounts === null) {
    $('at-risk').replaceChildren(h('p', { class: 'muted' }, 'This ledger has no at-risk route.'));
    return;
  }
  const rows = accounts.map((a) => [a.accountId, show(a.equity), show(a.maintenanceMargin), a.marginRatioPpm === undefined ? '' : percentOfPpm(a.marginRatioPpm), a.liquidatable ? 'yes' : '']);
  $('at-risk').replaceChildren(rows.length === 0 ? h('p', { class: 'muted' }, 'No open positions.') : table(['account', 'equity', 'maintenance', 'margin ratio (maintenance / equity)', 'liquidatable'], rows));
};

const renderStress = (report) => {
  if (report === null) {
    $('stress-result').replaceChildren(h('p', { class: 'muted' }, 'No stress run yet.'));
    return;
  }
  const adequacy = report.adequacy.map((a) => `${a.marketId}: a ${a.direction === 'down' ? 'fall' : 'rise'} of ${a.absorbedPpm / 10_000}%${a.failsAtPpm === null ? ' or more' : ` (ADL from ${a.failsAtPpm / 10_000}%)`}`);
  $('stress-result').replaceChildren(
    h('p', { class: 'muted' }, `Run ${report.ranAt} in ${report.durationMs} ms on the ledger's state; nothing was appended. Marks: ${report.marks.map((m) => `${m.marketId} ${show(m.from)} → ${show(m.to)} (${m.updates} updates)`).join(', ')}.`),
    h('div', { class: 'figures' },
      figure('liquidations', `${report.liquidations} (${report.belowBankruptcy} below bankruptcy)`, 'stress-liquidations'),
      figure('fund drawn', `${show(report.fund.drawn)} of ${show(report.fund.before)}`, 'stress-drawn'),
      ...report.fund.tranches.map((t) => figure(`${t.trancheId} after`, `${show(t.after)}${t.writtenOff ? ' (written off)' : ''}`)),
      figure('ADL fills', `${report.adl.fills} (size ${show(report.adl.size, 4)})`, 'stress-adl'),
      figure('socialized', show(report.socialized.total), 'stress-socialized'),
      figure('bad debt', show(report.badDebt), 'stress-bad-debt'),
      figure('largest deficit', report.largestDeficit === null ? 'none' : `${show(report.largestDeficit.amount)} (${report.largestDeficit.accountId})`, 'stress-largest'),
      figure('refused', String(report.refused.count), 'stress-refused'),
    ),
    h('p', { id: 'stress-adequacy' }, `The fund absorbs without ADL: ${adequacy.join('; ') || 'not searched'}.`),
  );
};

// --- the page -------------------------------------------------------------------------------------
const status = (text, isError = false) => {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : 'muted';
};

/** Draws the history of the pool on view again (when the axis changes). */
let shown = () => undefined;

const loadPool = async (poolId) => {
  sessionStorage.setItem(POOL_KEY, poolId);
  status(`Loading pool ${poolId}…`);
  const p = encodeURIComponent(poolId);
  const [health, tranches, events, latest, atRisk, history] = await Promise.all([
    api(`/v1/pools/${p}/fund-health`),
    api(`/v1/pools/${p}/tranches`),
    poolEvents(poolId),
    optional(api(`/v1/pools/${p}/stress/latest`)),
    optional(api(`/v1/pools/${p}/accounts/at-risk?limit=20`)),
    optional(api(`/v1/pools/${p}/fund-health/history?resolution=1h`)),
  ]);
  $('pool-title').textContent = `Pool ${poolId} (${events.length} events)`;
  renderFund(health, tranches, health.targetCoveragePpm ?? targetCoverage(events));
  shown = () => renderHistory(health, history?.points ?? null, events, tranches.map((t) => t.trancheId));
  shown();
  renderAtRisk(atRisk === null ? null : atRisk.items);
  renderStress(latest);
  $('pool-view').hidden = false;
  status(`Pool ${poolId} as of ${new Date().toISOString()}.`);
};

const runStress = async () => {
  const poolId = sessionStorage.getItem(POOL_KEY);
  const scenario = { liquidatorId: $('stress-liquidator').value.trim(), movePpm: Math.round(Number($('stress-move').value) * 10_000), steps: Number($('stress-steps').value) };
  const deposit = $('stress-deposit').value.trim();
  if (deposit !== '') scenario.liquidatorDeposit = deposit;
  $('stress-run').disabled = true;
  status('Running the stress scenario…');
  try {
    renderStress(await api(`/v1/pools/${encodeURIComponent(poolId)}/stress`, { method: 'POST', body: JSON.stringify(scenario) }));
    status('Stress run done.');
  } catch (error) {
    const fields = error.body?.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
    status(`Stress refused: ${fields || error.message}`, true);
  } finally {
    $('stress-run').disabled = false;
  }
};

const start = async () => {
  $('login').hidden = true;
  $('session').hidden = false;
  try {
    const pools = await optional(api('/v1/pools'));
    const ids = (pools?.items ?? []).map((p) => p.poolId);
    $('pool-list').replaceChildren(...ids.map((id) => h('option', { value: id })));
    const poolId = sessionStorage.getItem(POOL_KEY) ?? ids[0] ?? 'main';
    $('pool-id').value = poolId;
    await loadPool(poolId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      $('login').hidden = false;
      $('session').hidden = true;
      status('That token was not accepted.', true);
      return;
    }
    status(`Could not load the pool: ${error.message}`, true);
  }
};

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  void start();
});
$('pool-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadPool($('pool-id').value.trim()).catch((error) => status(`Could not load the pool: ${error.message}`, true));
});
$('stress-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void runStress();
});
$('x-axis').addEventListener('change', () => shown());
$('logout').addEventListener('click', () => {
  sessionStorage.clear();
  location.reload();
});

if (sessionStorage.getItem(TOKEN_KEY)) void start();
