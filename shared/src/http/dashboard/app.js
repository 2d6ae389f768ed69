// The dashboard: reads the JSON API with the key kept by key.js and draws headline
// figures, a stacked bar chart (hand-made SVG), breakdown tables and the collection
// status. Money is handled in integer micro-dollars (API figures have 6 decimals) and
// shown in cents, rounded half away from zero like the server rounds.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const DAY_MS = 86400000;
  // Okabe–Ito: told apart with the common colour-vision deficiencies.
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'];
  const OTHER = 'Other';
  const OTHER_COLOUR = '#8c8c8c';
  const ZONES = ['UTC', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles',
    'America/Sao_Paulo', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Africa/Johannesburg',
    'Asia/Dubai', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Auckland'];
  const DIMENSIONS = { model: 'Model', project: 'Project', agent: 'Agent', session_type: 'Session type' };
  const BASES = {
    reconciled: 'reconciled: the bill is the total, agents\' records say who spent it',
    raw: 'raw: every record added up (pulled and pushed usage both count)',
    billed: 'billed: the admin APIs\' records only',
    attributed: 'attributed: pushed and imported records only, at their own cost',
  };
  const PROVIDERS = { anthropic: 'Anthropic', openai: 'OpenAI' };
  const PREFS = 'cost-tracker.dashboard';

  const prefs = Object.assign({ range: '30', stack: 'model', tz: '', start: '', end: '', basis: 'reconciled' }, readPrefs());
  if (!BASES[prefs.basis]) prefs.basis = 'reconciled';
  let key = '';
  let generation = 0;
  let shown = null; // the last range report drawn, for redrawing on resize

  class KeyRejected extends Error {}

  function readPrefs() {
    try { return JSON.parse(localStorage.getItem(PREFS) || '{}'); } catch (_) { return {}; }
  }
  function savePrefs() {
    try { localStorage.setItem(PREFS, JSON.stringify(prefs)); } catch (_) { /* not kept */ }
  }

  // ---- money and dates -------------------------------------------------------------

  const micros = (usd) => Math.round(Number(usd) * 1e6);
  const roundDiv = (n, d) => (n < 0 ? -1 : 1) * Math.floor((Math.abs(n) + d / 2) / d);
  function money(m) {
    const cents = roundDiv(m, 10000);
    const abs = Math.abs(cents);
    return `${cents < 0 ? '-' : ''}$${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
  }
  function axisMoney(m, step) {
    const usd = m / 1e6;
    return step >= 1e6 ? `$${usd.toLocaleString('en-US', { maximumFractionDigits: 0 })}` : `$${usd.toFixed(2)}`;
  }
  const percent = (share) => `${(Number(share) * 100).toFixed(1)}%`;

  function todayIn(tz) {
    const parts = {};
    for (const p of new Intl.DateTimeFormat('en-US', {
      timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
    }).formatToParts(new Date())) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day}`;
  }
  function addDays(date, n) {
    const d = new Date(`${date}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  const daysBetween = (a, b) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  function when(instant) {
    if (!instant) return 'never';
    const minutes = Math.round((Date.now() - Date.parse(instant)) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 90) return `${plural(minutes, 'minute')} ago`;
    if (minutes < 48 * 60) return `${plural(Math.round(minutes / 60), 'hour')} ago`;
    return `${plural(Math.round(minutes / 1440), 'day')} ago`;
  }

  // ---- the API -------------------------------------------------------------------------

  async function api(path, params) {
    const query = new URLSearchParams(params || {}).toString();
    const reply = await fetch(query ? `${path}?${query}` : path, {
      headers: { 'X-API-Key': key }, credentials: 'same-origin',
    });
    if (reply.status === 401) throw new KeyRejected('key rejected');
    const body = await reply.json().catch(() => null);
    if (!reply.ok) throw new Error((body && body.error && body.error.message) || `${path}: HTTP ${reply.status}`);
    return body;
  }

  function showError(message) {
    const band = $('error-band');
    band.textContent = message || '';
    band.hidden = !message;
  }

  // ---- ranges --------------------------------------------------------------------------

  function currentRange(today) {
    if (prefs.range === 'today') return { start: today, end: today, label: 'Today' };
    if (prefs.range === 'custom' && prefs.start && prefs.end && prefs.start <= prefs.end) {
      return { start: prefs.start, end: prefs.end, label: 'Custom range' };
    }
    const days = Number(prefs.range) || 30;
    return { start: addDays(today, 1 - days), end: today, label: `Last ${days} days` };
  }

  // The previous period of the same length; when the range runs to today, only as far
  // into its last day as now (so a partial day is compared with the same hours).
  function previousPeriod(range, days, today) {
    const start = addDays(range.start, -days);
    if (range.end >= today) {
      const end = new Date(Date.now() - days * DAY_MS).toISOString().replace(/\.\d+Z$/, 'Z');
      return { start, end, note: `the previous ${plural(days, 'day')}, to the same hour` };
    }
    return { start, end: addDays(range.end, -days), note: `${start} to ${addDays(range.end, -days)}` };
  }

  // ---- rendering -----------------------------------------------------------------------

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function setFigure(id, value, note, title) {
    $(id).textContent = value;
    $(`${id}-note`).textContent = note || '';
    if (title) $(id).parentElement.title = title;
  }

  function renderHeadline(range, days, today, previous, prev, month) {
    const total = micros(range.total_cost_usd);
    setFigure('total', money(total), `${range.requests.toLocaleString('en-US')} requests`);

    const elapsed = range.end >= today ? Math.max(1, daysBetween(range.start, today) + 1) : days;
    setFigure('average', money(roundDiv(total, elapsed)), `over ${plural(elapsed, 'day')}`,
      'Total of the range divided by its days so far (today counts as a day).');

    const monthStart = `${today.slice(0, 8)}01`;
    const lastWeekStart = addDays(today, -7);
    let monthToYesterday = 0;
    let lastWeek = 0;
    let monthToDate = 0;
    for (const b of month.buckets) {
      const cost = micros(b.cost_usd);
      if (b.period >= monthStart) monthToDate += cost;
      if (b.period >= monthStart && b.period < today) monthToYesterday += cost;
      if (b.period >= lastWeekStart && b.period < today) lastWeek += cost;
    }
    const [y, m] = today.split('-').map(Number);
    const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const daysLeft = daysInMonth - Number(today.slice(8)) + 1;
    const rate = lastWeek / 7;
    const projected = monthToYesterday + Math.round(rate * daysLeft);
    setFigure('projection', money(projected), `month to date ${money(monthToDate)}`,
      `Month to date up to yesterday (${money(monthToYesterday)}) plus the average of the last 7 full days `
      + `(${money(rate)} a day) × ${plural(daysLeft, 'day')} left in the month, today included.`);

    const before = micros(previous.total_cost_usd);
    const change = $('change');
    change.classList.remove('up', 'down');
    if (before === 0) {
      setFigure('change', total === 0 ? '0%' : 'new', `nothing in ${prev.note}`);
    } else {
      const pct = ((total - before) / before) * 100;
      change.classList.add(pct > 0 ? 'up' : 'down');
      setFigure('change', `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`, `${money(before)} in ${prev.note}`);
    }
  }

  // The series of the chart: the biggest keys of the range, the rest as "Other".
  function seriesOf(range) {
    const keys = (range.stack_totals || []).map((item) => item.key);
    const top = keys.length > PALETTE.length + 1 ? keys.slice(0, PALETTE.length) : keys;
    const series = top.map((k, i) => ({ key: k, colour: PALETTE[i % PALETTE.length] }));
    if (top.length < keys.length) series.push({ key: OTHER, colour: OTHER_COLOUR });
    return series;
  }

  function niceStep(max) {
    const rough = max / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= rough);
    return Math.max(1, Math.round(step));
  }

  function renderChart(range) {
    shown = range;
    const box = $('chart');
    box.replaceChildren();
    const width = Math.max(280, box.clientWidth || 600);
    const height = width < 520 ? 220 : 280;
    const pad = { top: 10, right: 6, bottom: 26, left: width < 520 ? 48 : 60 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const series = seriesOf(range);
    const known = new Set(series.map((s) => s.key));
    const bars = range.buckets.map((b) => {
      const parts = new Map();
      for (const item of b.stack || []) {
        const k = known.has(item.key) ? item.key : OTHER;
        parts.set(k, (parts.get(k) || 0) + micros(item.cost_usd));
      }
      return { period: b.period, total: micros(b.cost_usd), parts };
    });
    const max = Math.max(1, ...bars.map((b) => b.total));
    const step = niceStep(max);
    const top = Math.ceil(max / step) * step;
    const y = (m) => pad.top + plotH - (m / top) * plotH;
    const chart = svg('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `Daily cost stacked by ${DIMENSIONS[range.stack_by] || range.stack_by}, ${range.start} to ${range.end}`,
    });
    for (let tick = 0; tick <= top; tick += step) {
      chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }));
      chart.append(svg('text', { x: pad.left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' }, axisMoney(tick, step)));
    }
    const slot = plotW / Math.max(1, bars.length);
    const barW = Math.max(1, Math.min(48, slot * 0.78));
    const labelEvery = Math.ceil(bars.length / Math.max(1, Math.floor(plotW / 46)));
    bars.forEach((bar, i) => {
      const x = pad.left + i * slot + (slot - barW) / 2;
      let base = 0;
      for (const s of series) {
        const value = bar.parts.get(s.key) || 0;
        if (value <= 0) continue;
        const rect = svg('rect', {
          x, width: barW, y: y(base + value), height: Math.max(0.5, y(base) - y(base + value)),
          fill: s.colour, 'data-series': s.key, 'data-period': bar.period,
        });
        rect.append(svg('title', {}, `${bar.period} · ${s.key}: ${money(value)}`));
        chart.append(rect);
        base += value;
      }
      if (i % labelEvery === 0) {
        chart.append(svg('text', { x: x + barW / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' },
          bars.length > 1 ? bar.period.slice(5) : bar.period));
      }
    });
    box.append(chart);

    const legend = $('legend');
    legend.replaceChildren();
    const totals = new Map((range.stack_totals || []).map((i) => [i.key, micros(i.cost_usd)]));
    for (const s of series) {
      const value = s.key === OTHER
        ? [...totals].filter(([k]) => !known.has(k)).reduce((sum, [, v]) => sum + v, 0)
        : totals.get(s.key) || 0;
      const item = el('li', { 'data-series': s.key });
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = s.colour;
      item.append(swatch, el('span', { class: 'legend-key' }, s.key), el('span', { class: 'legend-value' }, money(value)));
      legend.append(item);
    }
    if (!series.length) legend.append(el('li', { class: 'empty' }, 'No usage in this range.'));
  }

  function renderTable(dimension, report) {
    const table = $(`table-${dimension}`);
    table.replaceChildren();
    const head = el('tr');
    for (const [text, cls] of [[DIMENSIONS[dimension], ''], ['Cost', 'num'], ['Share', 'num'], ['Requests', 'num']]) {
      head.append(el('th', { scope: 'col', class: cls }, text));
    }
    table.appendChild(el('thead')).appendChild(head);
    const body = table.appendChild(el('tbody'));
    for (const item of report.breakdown) {
      const row = el('tr');
      row.append(el('th', { scope: 'row', class: 'key' }, item.key));
      row.append(el('td', { class: 'num' }, money(micros(item.cost_usd))));
      const share = el('td', { class: 'num share' });
      const bar = el('span', { class: 'share-bar', 'aria-hidden': 'true' });
      bar.style.width = `${Math.min(100, Number(item.share) * 100)}%`;
      share.append(bar, el('span', {}, percent(item.share)));
      row.append(share, el('td', { class: 'num' }, item.requests.toLocaleString('en-US')));
      body.append(row);
    }
    if (!report.breakdown.length) {
      body.appendChild(el('tr')).appendChild(el('td', { colspan: '4', class: 'empty' }, 'No usage in this range.'));
    }
    const foot = table.appendChild(el('tfoot')).appendChild(el('tr'));
    foot.append(el('th', { scope: 'row' }, 'Total'), el('td', { class: 'num' }, money(micros(report.total_cost_usd))),
      el('td', { class: 'num' }, report.breakdown.length ? '100%' : ''), el('td', { class: 'num' }, report.requests.toLocaleString('en-US')));
  }

  // The coverage card: how much of the range's bill the agents' records explain.
  function renderCoverage(rec) {
    if (rec.error) {
      setFigure('coverage', '–', rec.error);
      return;
    }
    const billed = micros(rec.billed_usd);
    const card = $('coverage-card');
    if (billed === 0) {
      const agents = micros(rec.attributed_usd);
      setFigure('coverage', 'No bill', agents ? `${money(agents)} from agent records, no collected bill in this range`
        : 'no collected bill in this range');
      card.title = 'No collection of the Anthropic or OpenAI admin API covers this range: agent records count at their own cost.';
      return;
    }
    setFigure('coverage', percent(rec.coverage),
      `${money(micros(rec.unattributed_usd))} unattributed, ${money(micros(rec.over_attributed_usd))} over-attributed`);
    card.title = `${money(micros(rec.explained_usd))} of the ${money(billed)} billed is explained by agent records `
      + '(per hour and model, up to the bill); the rest counts as session type "other". Agent records beyond the bill '
      + 'are over-attributed and scaled down to it.';
  }

  const billedHour = (instant) => instant.replace('T', ' ').replace(/:00(\.0+)?Z$/, ' UTC');

  function renderReconciliation(rec) {
    $('reconciliation').hidden = Boolean(rec.error);
    if (rec.error) return;
    // `opt` columns give way on narrow screens, `opt2` on phones.
    const columns = [['Model', ''], ['Billed', 'num'], ['Agents', 'num opt'], ['Explained', 'num'],
      ['Unattributed', 'num opt2'], ['Over-attributed', 'num opt2'], ['Unbilled agents', 'num opt'], ['Coverage', 'num']];
    const cells = (f) => [f.billed_usd, f.attributed_usd, f.explained_usd, f.unattributed_usd,
      f.over_attributed_usd, f.unbilled_attributed_usd].map((usd) => money(micros(usd)))
      .concat(f.coverage === null ? '–' : percent(f.coverage));
    const table = $('table-reconciliation');
    table.replaceChildren();
    const head = el('tr');
    for (const [text, cls] of columns) head.append(el('th', { scope: 'col', class: cls }, text));
    table.appendChild(el('thead')).appendChild(head);
    const body = table.appendChild(el('tbody'));
    const row = (parent, label, f, provider) => {
      const tr = parent.appendChild(el('tr'));
      const th = tr.appendChild(el('th', { scope: 'row', class: 'key' }));
      if (provider) th.append(el('span', { class: 'provider' }, `${PROVIDERS[provider] || provider} · `));
      th.append(label);
      cells(f).forEach((text, i) => tr.append(el('td', { class: columns[i + 1][1] }, text)));
      return tr;
    };
    for (const line of rec.models) row(body, line.model, line, line.provider);
    if (!rec.models.length) {
      body.appendChild(el('tr')).appendChild(el('td', { colspan: String(columns.length), class: 'empty' }, 'No usage in this range.'));
    }
    row(table.appendChild(el('tfoot')), 'Total', rec);
    const billed = rec.billed.map((b) => `${PROVIDERS[b.provider] || b.provider}: ${plural(b.billed_hours, 'hour')} billed, `
      + `${billedHour(b.first_billed_hour)} to ${billedHour(b.billed_until)}`);
    $('reconciliation-note').textContent = (billed.length ? `${billed.join('; ')}. ` : 'No provider\'s bill has been collected. ')
      + 'Explained is the part of the bill that agent records account for, hour by hour and model by model; '
      + 'over-attributed is agent cost beyond the bill (left out of every total); unbilled agents is agent cost in hours no collection covered.';
  }

  function renderUnpriced(range, byModel) {
    const band = $('unpriced-band');
    const models = byModel.breakdown.filter((i) => i.unpriced_requests > 0).map((i) => i.key);
    band.hidden = range.unpriced_requests === 0;
    band.textContent = band.hidden ? '' : `${plural(range.unpriced_requests, 'request')} in this range used `
      + `${models.length ? models.join(', ') : 'models'} with no price in the catalog: they count as $0 until a price is added.`;
  }

  // Days whose provider bill differs from our prices by more than 1 % (GET /costs/bill-check).
  function renderBillCheck(check) {
    const band = $('bill-check-band');
    const flagged = (check && check.price_mismatch) || [];
    band.hidden = flagged.length === 0;
    if (band.hidden) { band.textContent = ''; return; }
    const shown = flagged.slice(0, 4).map((m) => `${m.date} ${PROVIDERS[m.provider] || m.provider} ${m.model}`
      + ` (${m.percent === null ? 'not priced' : `${Number(m.percent) > 0 ? '+' : ''}${m.percent} %`}, ${m.token_kinds.join(', ')})`);
    if (flagged.length > shown.length) shown.push(`${flagged.length - shown.length} more`);
    band.textContent = `The provider's bill differs from our prices by more than 1 % on ${plural(check.flagged_days.length, 'day')}: `
      + `${shown.join('; ')}. See GET /costs/bill-check or cost-tracker bill-check.`;
  }

  function statusItem(title, state, cls, lines) {
    const item = el('div', { class: 'status-item' });
    item.append(el('h3', {}, title), el('p', { class: `state ${cls}` }, state));
    for (const line of lines.filter(Boolean)) item.append(el('p', { class: 'detail' }, line));
    return item;
  }

  function renderStatus(status) {
    const grid = $('status');
    grid.replaceChildren();
    for (const [name, title] of [['anthropic', 'Anthropic'], ['openai', 'OpenAI']]) {
      const p = status.providers[name] || {};
      const run = p.last_run;
      let state = 'Off: no admin key';
      let cls = 'off';
      if (p.configured && !run) [state, cls] = ['On, not run yet', 'warn'];
      if (run) [state, cls] = [`Last run ${run.status}, ${when(run.finished_at || run.started_at)}`, run.status === 'failed' ? 'bad' : 'ok'];
      const bill = (status.billed_hours || []).find((b) => b.provider === name);
      grid.append(statusItem(`${title} collection`, state, cls, [
        p.watermark && `Collected up to ${p.watermark.replace('T', ' ').replace(/:00(\.0+)?Z$/, ' UTC')}`,
        bill && `Bill on record: ${plural(bill.billed_hours, 'hour')}, to ${billedHour(bill.billed_until)}`,
        p.last_error && `Last error: ${p.last_error}`,
      ]));
    }
    const cv = status.context_vault || {};
    const push = cv.last_push;
    let state = 'Off: CONTEXT_VAULT_URL and key not set';
    let cls = 'off';
    if (cv.configured) {
      [state, cls] = push ? [`Last push ${push.status} (${push.date}), ${when(push.attempted_at)}`, push.status === 'pushed' ? 'ok' : 'bad']
        : ['On, nothing pushed yet', 'warn'];
    }
    grid.append(statusItem('Context Vault sync', state, cls, [
      cv.workspace && `Workspace ${cv.workspace}`,
      cv.last_error && `Last error: ${cv.last_error}`,
    ]));
    const unpriced = (status.unpriced_models || []).map((u) => u.model);
    grid.append(statusItem('Pricing', unpriced.length ? `Unpriced: ${unpriced.join(', ')}` : 'Every model is priced',
      unpriced.length ? 'warn' : 'ok', [`Database ${status.database}, report zone ${status.report_timezone}`]));
    $('version').textContent = `cost-tracker ${status.version}`;
  }

  function pressed(group, attr, value) {
    for (const b of $(group).querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset[attr] === value));
  }

  // ---- loading -------------------------------------------------------------------------

  // One chip per budget: name, spent of amount this period, a bar, the projection.
  function renderBudgets(reply) {
    const strip = $('budget-strip');
    strip.replaceChildren();
    const budgets = (reply && reply.budgets) || [];
    strip.hidden = budgets.length === 0;
    for (const item of budgets) {
      const f = item.figures;
      const percent = Number(f.percent);
      const chip = document.createElement('div');
      chip.className = 'budget card' + (percent >= 100 ? ' over' : percent >= 80 ? ' near' : '');
      chip.dataset.budget = f.budget;
      const name = document.createElement('span');
      name.className = 'label';
      name.textContent = `${f.budget} (${item.budget.period})`;
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = `$${Number(f.spent).toFixed(2)} of $${Number(f.amount).toFixed(2)} (${f.percent}%)`;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${Math.min(percent, 100)}%`;
      bar.append(fill);
      const note = document.createElement('span');
      note.className = 'note';
      const sent = item.alerts.filter((a) => a.status === 'sent').length;
      note.textContent = `projected $${Number(f.projected).toFixed(2)} · ${sent} alert${sent === 1 ? '' : 's'} sent`;
      chip.append(name, value, bar, note);
      strip.append(chip);
    }
  }

  async function refresh(chartOnly) {
    const mine = ++generation;
    const main = $('dashboard');
    main.setAttribute('aria-busy', 'true');
    const tz = prefs.tz;
    const today = todayIn(tz);
    const range = currentRange(today);
    const days = daysBetween(range.start, range.end) + 1;
    const scope = { start: range.start, end: range.end, tz, basis: prefs.basis };
    pressed('range-picker', 'range', prefs.range);
    pressed('stack-picker', 'stack', prefs.stack);
    try {
      const stacked = api('/costs/range', { ...scope, group_by: 'day', stack_by: prefs.stack });
      if (chartOnly) {
        const report = await stacked;
        if (mine !== generation) return;
        renderChart(report);
      } else {
        const prev = previousPeriod(range, days, today);
        const monthFrom = [`${today.slice(0, 8)}01`, addDays(today, -7)].sort()[0];
        const [report, byModel, byProject, byAgent, byType, previous, month, status, rec, bill, budgets] = await Promise.all([
          stacked,
          api('/costs/by-model', scope), api('/costs/by-project', scope),
          api('/costs/by-agent', scope), api('/costs/by-session-type', scope),
          api('/costs/range', { start: prev.start, end: prev.end, tz, group_by: 'month', basis: prefs.basis }),
          api('/costs/range', { start: monthFrom, end: today, tz, group_by: 'day', basis: prefs.basis }),
          api('/admin/status'),
          // Zones off whole hours cannot be reconciled (cells are UTC hours): say so, draw the rest.
          api('/costs/reconciliation', { start: range.start, end: range.end, tz, group_by: 'month' })
            .catch((err) => { if (err instanceof KeyRejected) throw err; return { error: err.message }; }),
          // Bills are cut in UTC days: the range's dates, read as UTC days.
          api('/costs/bill-check', { start: range.start, end: range.end })
            .catch((err) => { if (err instanceof KeyRejected) throw err; return null; }),
          // Budgets are always this period's (day, week, month in the report zone).
          api('/costs/budgets')
            .catch((err) => { if (err instanceof KeyRejected) throw err; return null; }),
        ]);
        if (mine !== generation) return;
        $('range-line').textContent = `${range.label}: ${report.start} to ${report.end} (${report.timezone}), basis ${BASES[report.basis] || report.basis}`;
        renderHeadline(report, days, today, previous, prev, month);
        renderChart(report);
        renderTable('model', byModel);
        renderTable('project', byProject);
        renderTable('agent', byAgent);
        renderTable('session_type', byType);
        renderUnpriced(report, byModel);
        renderBillCheck(bill);
        renderCoverage(rec);
        renderReconciliation(rec);
        renderStatus(status);
        renderBudgets(budgets);
      }
      showError('');
      Object.assign(main.dataset, { start: range.start, end: range.end, tz, stack: prefs.stack, range: prefs.range, basis: prefs.basis });
      main.hidden = false;
      main.setAttribute('aria-busy', 'false');
    } catch (err) {
      if (mine !== generation) return;
      if (err instanceof KeyRejected) {
        await window.costKey.forget();
        main.hidden = true;
        key = await window.costKey.ask('The stored key was not accepted.');
        refresh();
        return;
      }
      showError(err.message);
      main.setAttribute('aria-busy', 'false');
    }
  }

  async function downloadCsv(dimension) {
    const tz = prefs.tz;
    const range = currentRange(todayIn(tz));
    const reconciliation = dimension === 'reconciliation';
    const path = reconciliation ? '/costs/reconciliation' : `/costs/by-${dimension.replace('_', '-')}`;
    const params = { start: range.start, end: range.end, tz, format: 'csv' };
    if (reconciliation) params.group_by = 'day'; else params.basis = prefs.basis;
    try {
      const reply = await fetch(`${path}?${new URLSearchParams(params)}`, {
        headers: { 'X-API-Key': key }, credentials: 'same-origin',
      });
      if (!reply.ok) throw new Error(`${path}: HTTP ${reply.status}`);
      const name = /filename="([^"]+)"/.exec(reply.headers.get('content-disposition') || '');
      const link = el('a', { href: URL.createObjectURL(await reply.blob()), download: name ? name[1] : 'costs.csv' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (err) {
      showError(err.message);
    }
  }

  function fillZones(reportZone) {
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!prefs.tz) prefs.tz = reportZone || 'UTC';
    const zones = [...new Set([prefs.tz, reportZone, browserZone, ...ZONES].filter(Boolean))];
    const picker = $('tz-picker');
    picker.replaceChildren(...zones.map((z) => {
      const option = el('option', { value: z }, z === reportZone ? `${z} (report zone)` : z);
      option.selected = z === prefs.tz;
      return option;
    }));
  }

  function wire() {
    $('range-picker').addEventListener('click', (event) => {
      const choice = event.target.closest('button');
      if (!choice) return;
      $('custom-range').hidden = choice.dataset.range !== 'custom';
      if (choice.dataset.range === 'custom') {
        const today = todayIn(prefs.tz);
        $('custom-start').value = prefs.start || addDays(today, -29);
        $('custom-end').value = prefs.end || today;
        pressed('range-picker', 'range', 'custom');
        return;
      }
      prefs.range = choice.dataset.range;
      savePrefs();
      refresh();
    });
    $('custom-apply').addEventListener('click', () => {
      const start = $('custom-start').value;
      const end = $('custom-end').value;
      if (!start || !end || start > end) {
        showError('Pick a start date on or before the end date.');
        return;
      }
      Object.assign(prefs, { range: 'custom', start, end });
      savePrefs();
      refresh();
    });
    $('stack-picker').addEventListener('click', (event) => {
      const choice = event.target.closest('button');
      if (!choice) return;
      prefs.stack = choice.dataset.stack;
      savePrefs();
      refresh(true);
    });
    $('basis-picker').value = prefs.basis;
    $('basis-picker').addEventListener('change', (event) => {
      prefs.basis = event.target.value;
      savePrefs();
      refresh();
    });
    $('tz-picker').addEventListener('change', (event) => {
      prefs.tz = event.target.value;
      savePrefs();
      refresh();
    });
    $('forget-key').addEventListener('click', async () => {
      await window.costKey.forget();
      window.location.reload();
    });
    for (const button of document.querySelectorAll('[data-csv]')) {
      button.addEventListener('click', () => downloadCsv(button.dataset.csv));
    }
    let pending = 0;
    window.addEventListener('resize', () => {
      clearTimeout(pending);
      pending = setTimeout(() => { if (shown) renderChart(shown); }, 150);
    });
  }

  async function start() {
    wire();
    key = window.costKey.get() || await window.costKey.ask('');
    for (;;) {
      try {
        const status = await api('/admin/status');
        fillZones(status.report_timezone);
        break;
      } catch (err) {
        if (!(err instanceof KeyRejected)) {
          showError(err.message);
          return;
        }
        await window.costKey.forget();
        key = await window.costKey.ask('The stored key was not accepted.');
      }
    }
    if (prefs.range === 'custom') {
      $('custom-range').hidden = false;
      $('custom-start').value = prefs.start;
      $('custom-end').value = prefs.end;
    }
    refresh();
  }

  document.addEventListener('DOMContentLoaded', start);
}());
