// Drives /dashboard in headless Chromium against a running `cost-tracker serve` with demo
// data, as a person would: enter the key, read the headline and tables, switch the
// stacking, change the range, look at it on a phone; screenshots go to SCREENSHOT_DIR.
// Every figure on the page is checked against the JSON API to the cent. Prints a JSON
// summary on the last line; exits non-zero on the first failed check.
//
// Environment: BASE_URL (http://127.0.0.1:PORT), API_KEY, SCREENSHOT_DIR,
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.BASE_URL;
const key = process.env.API_KEY;
const shots = process.env.SCREENSHOT_DIR || 'target';
if (!base || !key) throw new Error('BASE_URL and API_KEY are required');
mkdirSync(shots, { recursive: true });

const check = (ok, message) => {
  if (!ok) throw new Error(`check failed: ${message}`);
};

// The API's figure for `path`, as exact decimal text (JSON.parse would make it a float).
async function apiText(path, field) {
  const reply = await fetch(`${base}${path}`, { headers: { 'X-API-Key': key } });
  check(reply.ok, `${path}: HTTP ${reply.status}`);
  const text = await reply.text();
  const match = new RegExp(`"${field}":(-?[0-9.]+)`).exec(text);
  check(match, `${path} has no ${field}`);
  return { text: match[1], body: JSON.parse(text) };
}

// "$1,234.57" from exact decimal text, rounding half away from zero at the cent.
function cents(decimal) {
  const negative = decimal.startsWith('-');
  const [whole, frac = ''] = decimal.replace('-', '').split('.');
  let value = BigInt(whole) * 100n + BigInt((frac + '000').slice(0, 2));
  if (Number((frac + '000')[2]) >= 5) value += 1n;
  const dollars = (value / 100n).toLocaleString('en-US');
  return `${negative && value > 0n ? '-' : ''}$${dollars}.${String(value % 100n).padStart(2, '0')}`;
}

// Each breakdown item's cost, exact, in the API's order.
async function breakdownCents(path) {
  const reply = await fetch(`${base}${path}`, { headers: { 'X-API-Key': key } });
  const text = await reply.text();
  const costs = [...text.matchAll(/"key":"((?:[^"\\]|\\.)*)","cost_usd":(-?[0-9.]+)/g)];
  return costs.map(([, k, cost]) => [JSON.parse(`"${k}"`), cents(cost)]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const summary = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  const ready = async (attrs) => {
    const selector = Object.entries({ 'aria-busy': 'false', ...attrs })
      .map(([name, value]) => `[${name}="${value}"]`).join('');
    await page.waitForSelector(`#dashboard${selector}`, { timeout: 20000 });
  };

  // A monthly budget for the strip (the demo spends well past $100 a month).
  const made = await fetch(`${base}/admin/budgets`, {
    method: 'POST', headers: { 'X-API-Key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'demo-monthly', period: 'month', amount_usd: '100' }),
  });
  check(made.status === 201, `POST /admin/budgets: HTTP ${made.status}`);

  // Locked (DASHBOARD_PUBLIC=false): the key-entry page, which refuses a wrong key.
  const first = await page.goto(`${base}/dashboard`);
  check(first.status() === 200, `GET /dashboard: ${first.status()}`);
  check(first.headers()['content-security-policy'].includes("script-src 'self'"), 'a strict CSP');
  check(await page.locator('body[data-page="key"]').count() === 1, 'the key-entry page comes first');
  await page.fill('#key-input', 'not-the-key');
  await page.click('#key-form button[type="submit"]');
  await page.waitForSelector('#key-error:not([hidden])');
  check((await page.textContent('#key-error')).includes('not accepted'), 'a wrong key is refused');

  problems.length = 0; // the refused key's 401 is expected
  await page.fill('#key-input', key);
  await page.click('#key-form button[type="submit"]');
  await page.waitForSelector('body[data-page="dashboard"]', { timeout: 20000 });
  await ready({ 'data-range': '30', 'data-stack': 'model' });
  check(await page.locator('body[data-page="dashboard"]').count() === 1, 'the dashboard after the key');

  // Headline total and every table agree with the API to the cent.
  async function agree(label) {
    const scope = await page.$eval('#dashboard', (m) => ({ start: m.dataset.start, end: m.dataset.end, tz: m.dataset.tz, basis: m.dataset.basis }));
    const query = `start=${scope.start}&end=${scope.end}&tz=${encodeURIComponent(scope.tz)}&basis=${scope.basis}`;
    check((await page.textContent('#range-line')).includes(`basis ${scope.basis}`), `${label}: the range line names the basis`);
    const total = await apiText(`/costs/range?${query}`, 'total_cost_usd');
    const shown = (await page.textContent('#total')).trim();
    check(shown === cents(total.text), `${label}: total ${shown} vs /costs/range ${total.text}`);
    for (const dim of ['model', 'project', 'agent', 'session_type']) {
      const want = await breakdownCents(`/costs/by-${dim.replace('_', '-')}?${query}`);
      const rows = await page.$$eval(`#table-${dim} tbody tr`, (trs) => trs.map((tr) => [
        tr.querySelector('th') && tr.querySelector('th').textContent, tr.querySelector('td.num') && tr.querySelector('td.num').textContent]));
      check(JSON.stringify(rows) === JSON.stringify(want), `${label}: table ${dim} ${JSON.stringify(rows)} vs ${JSON.stringify(want)}`);
      const foot = await page.textContent(`#table-${dim} tfoot td.num`);
      check(foot === shown, `${label}: table ${dim} total ${foot}`);
    }
    return { ...scope, total: shown, api_total: total.text };
  }

  // The coverage card and the reconciliation table agree with /costs/reconciliation.
  async function reconciled(label) {
    const scope = await page.$eval('#dashboard', (m) => ({ start: m.dataset.start, end: m.dataset.end, tz: m.dataset.tz }));
    const path = `/costs/reconciliation?start=${scope.start}&end=${scope.end}&tz=${encodeURIComponent(scope.tz)}&group_by=month`;
    const reply = await fetch(`${base}${path}`, { headers: { 'X-API-Key': key } });
    check(reply.ok, `${path}: HTTP ${reply.status}`);
    const text = await reply.text();
    // Exact decimal text of every figure, in document order (totals come first).
    const figure = (name) => [...text.matchAll(new RegExp(`"${name}":(-?[0-9.]+|null)`, 'g'))].map((m) => m[1]);
    const body = JSON.parse(text);
    const [billed, explained, unattributed, over] = ['billed_usd', 'explained_usd', 'unattributed_usd', 'over_attributed_usd']
      .map((name) => figure(name)[0]);
    const coverage = figure('coverage')[0];
    check(coverage !== 'null', `${label}: the demo range has a bill`);
    const pct = `${(Number(coverage) * 100).toFixed(1)}%`;
    const card = (await page.textContent('#coverage')).trim();
    check(card === pct, `${label}: coverage card ${card} vs ${coverage}`);
    const note = await page.textContent('#coverage-note');
    check(note.includes(`${cents(unattributed)} unattributed`) && note.includes(`${cents(over)} over-attributed`),
      `${label}: coverage note ${note} vs ${unattributed} / ${over}`);
    const rows = await page.$$eval('#table-reconciliation tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    check(rows.length === body.models.length, `${label}: a row per model (${rows.length} vs ${body.models.length})`);
    // The models' figures follow the totals' in the document, in the same order.
    const names = ['billed_usd', 'attributed_usd', 'explained_usd', 'unattributed_usd', 'over_attributed_usd', 'unbilled_attributed_usd'];
    const exact = Object.fromEntries(names.map((n) => [n, figure(n)]));
    body.models.forEach((line, i) => {
      check(rows[i][0].endsWith(line.model), `${label}: row ${i} is ${line.model} (${rows[i][0]})`);
      names.forEach((n, j) => check(rows[i][j + 1] === cents(exact[n][i + 1]), `${label}: ${line.model} ${n} ${rows[i][j + 1]} vs ${exact[n][i + 1]}`));
    });
    const foot = await page.$$eval('#table-reconciliation tfoot td', (tds) => tds.map((td) => td.textContent));
    check(foot[0] === cents(billed) && foot[2] === cents(explained), `${label}: reconciliation totals ${foot}`);
    check((await page.textContent('#reconciliation-note')).includes('hours billed'), `${label}: the billed hours are named`);
    return { coverage: card, billed, explained, unattributed, over };
  }
  summary.thirty_days = await agree('30 days');
  check(summary.thirty_days.basis === 'reconciled', 'the reconciled basis is the default');
  check(summary.thirty_days.total !== '$0.00', 'demo data is shown');
  summary.reconciliation = await reconciled('30 days');
  for (const id of ['average', 'projection', 'change']) {
    const text = (await page.textContent(`#${id}`)).trim();
    check(text && text !== '–', `${id} is filled (${text})`);
    summary[id] = text;
  }
  check((await page.getAttribute('#projection-card', 'title')).includes('last 7 full days'), 'the projection says how');

  // The chart stacks by model, then by project.
  const series = () => page.$$eval('#chart rect', (rects) => [...new Set(rects.map((r) => r.dataset.series))]);
  const models = await series();
  check(models.includes('claude-opus-4-5-20251101'), `stacked by model: ${models}`);
  check((await page.$$('#chart rect')).length >= 30, 'a bar segment per day and model');
  const unpriced = await page.textContent('#unpriced-band');
  check(unpriced.includes('acme-experimental-1'), `the unpriced warning: ${unpriced}`);
  check((await page.textContent('#status')).includes('Context Vault'), 'the status panel');
  // The budget strip: the budget's spent and percent as GET /costs/budgets has them.
  const budgets = (await apiText('/costs/budgets', 'spent')).body.budgets;
  check(await page.isVisible('#budget-strip'), 'the budget strip is shown');
  const chip = await page.textContent('#budget-strip [data-budget="demo-monthly"]');
  const figures = budgets[0].figures;
  check(chip.includes(`$${Number(figures.spent).toFixed(2)} of $100.00 (${figures.percent}%)`), `the budget chip: ${chip} vs ${JSON.stringify(figures)}`);
  // The demo bills Opus 10 % high on one day: the bill-check band names the day and model,
  // as the API flags them.
  const bill = (await apiText(`/costs/bill-check?start=${summary.thirty_days.start}&end=${summary.thirty_days.end}`, 'billed_usd')).body;
  check(bill.price_mismatch.length > 0, `the demo has a flagged day: ${JSON.stringify(bill.flagged_days)}`);
  check(await page.isVisible('#bill-check-band'), 'the bill-check band is shown');
  const band = await page.textContent('#bill-check-band');
  for (const m of bill.price_mismatch.slice(0, 4)) {
    check(band.includes(m.date) && band.includes(m.model), `the band names ${m.date} ${m.model}: ${band}`);
  }
  summary.bill_check = band;

  await page.click('#stack-picker [data-stack="project"]');
  await ready({ 'data-stack': 'project' });
  const projects = await series();
  const want = (await breakdownCents(`/costs/by-project?start=${summary.thirty_days.start}&end=${summary.thirty_days.end}&tz=${summary.thirty_days.tz}`)).map(([k]) => k);
  check(projects.length > 1 && projects.every((p) => want.includes(p) || p === 'Other'), `stacked by project: ${projects}`);
  summary.projects = projects;
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });

  // The basis switch: raw adds the bill and the agents' records up; back to reconciled.
  await page.selectOption('#basis-picker', 'raw');
  await ready({ 'data-basis': 'raw' });
  summary.raw = await agree('30 days raw');
  check(Number(summary.raw.api_total) > Number(summary.thirty_days.api_total),
    `raw (${summary.raw.api_total}) counts the explained part twice, reconciled (${summary.thirty_days.api_total}) once`);
  await page.selectOption('#basis-picker', 'reconciled');
  await ready({ 'data-basis': 'reconciled' });

  // Another range: the last 7 days.
  await page.click('#range-picker [data-range="7"]');
  await ready({ 'data-range': '7' });
  summary.seven_days = await agree('7 days');
  await reconciled('7 days');
  const days = (Date.parse(summary.seven_days.end) - Date.parse(summary.seven_days.start)) / 86400000 + 1;
  check(days === 7, `7 days: ${summary.seven_days.start} to ${summary.seven_days.end}`);

  // A phone: no sideways scrolling, the chart fits.
  await page.setViewportSize({ width: 380, height: 800 });
  await page.waitForTimeout(400);
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    chart: document.querySelector('#chart svg').getBoundingClientRect().width,
    reconciliation: document.querySelector('#reconciliation').getBoundingClientRect().width,
  }));
  check(widths.page <= 380 && widths.chart <= 380 && widths.reconciliation <= 380, `phone width: ${JSON.stringify(widths)}`);
  await page.screenshot({ path: join(shots, 'dashboard-phone.png'), fullPage: true });

  // The key is asked once: a reload goes straight to the dashboard.
  await page.reload();
  await ready({});
  check(await page.locator('#key-panel:not([hidden])').count() === 0, 'no key asked after a reload');
  check(problems.length === 0, `no script errors or CSP violations: ${problems.join('; ')}`);
  summary.ok = true;
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
