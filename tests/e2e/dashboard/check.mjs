// SPDX-License-Identifier: Apache-2.0
//
// Drives Debian's chromium through the dashboard for tests/e2e/test_dashboard.py.
// Input (environment): DASH_BASE (http://127.0.0.1:PORT), DASH_TOKEN,
// DASH_SHOT (screenshot path), DASH_EXPECT (JSON: [{exe, hex}] of the execs
// the test will get denied), DASH_PANELS (JSON: what the Shield, egress and
// file panels must show, see panels.mjs), CHROMIUM (executable).
// Output: JSON lines on stdout. {"step":"ready"} when the page is live and the
// test should exec the denied programs, connect, read and send packets;
// {"step":"shield"} when the page shows the first drops and the test should
// send more; {"step":"done", ...} at the end. Any failed check throws: exit
// status 1 with the reason on stderr.
import { chromium } from 'playwright-core';
import { checkPanels } from './panels.mjs';

const BASE = process.env.DASH_BASE;
const TOKEN = process.env.DASH_TOKEN;
const SHOT = process.env.DASH_SHOT;
const EXPECT = JSON.parse(process.env.DASH_EXPECT || '[]');
const PANELS = JSON.parse(process.env.DASH_PANELS || 'null');
const DATA_PATHS = ['/status', '/stats', '/events', '/metrics', '/health'];

function say(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

function check(cond, what) {
	if (!cond)
		throw new Error('check failed: ' + what);
}

// What app.js shows for a string: control characters as escapes.
function visible(s) {
	return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
		const m = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }[ch];
		return m || '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
	});
}

// A page that records every request, response, console message, error and CSP violation.
async function openPage(browser, fragment) {
	const ctx = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
	const page = await ctx.newPage();
	const log = { requests: [], responses: [], console: [], errors: [] };

	page.on('request', (r) => log.requests.push(r));
	page.on('response', (r) => log.responses.push({ url: new URL(r.url()).pathname, status: r.status() }));
	page.on('console', (m) => log.console.push(m.type() + ': ' + m.text()));
	page.on('pageerror', (e) => log.errors.push(String(e)));
	await page.addInitScript(() => {
		window.__csp = [];
		document.addEventListener('securitypolicyviolation',
			(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
	});
	const main = await page.goto(BASE + '/dashboard/' + fragment);
	check(main.status() === 200, 'dashboard page status ' + main.status());
	return { ctx, page, log };
}

async function assertClean(page, log, label) {
	const csp = await page.evaluate(() => window.__csp);
	check(csp.length === 0, label + ': CSP violations ' + JSON.stringify(csp));
	check(log.errors.length === 0, label + ': page errors ' + JSON.stringify(log.errors));
	check(!log.console.some((m) => /Content.Security.Policy/i.test(m)),
		label + ': CSP message on the console ' + JSON.stringify(log.console));
	check(!log.console.some((m) => m.includes('dashboard panel')),
		label + ': a panel failed ' + JSON.stringify(log.console));
}

// Rows in every table of the page: the feed and the panels.
async function rowsShown(page) {
	return page.evaluate(() => document.querySelectorAll('tbody tr').length);
}

// 1. No token: the login form, no request for data, nothing shown; the
//    endpoints refuse the page's own requests without the header.
async function withoutToken(browser) {
	const { ctx, page, log } = await openPage(browser, '');
	await page.waitForSelector('#login:not([hidden])');
	await page.waitForTimeout(1500);
	check(await page.isHidden('#board'), 'no token: the board is hidden');
	check(await rowsShown(page) === 0, 'no token: no event rows');
	const dataReqs = log.requests.filter((r) => DATA_PATHS.includes(new URL(r.url()).pathname));
	check(dataReqs.length === 0, 'no token: the page asked for data: ' + dataReqs.map((r) => r.url()));
	const statuses = await page.evaluate(async (paths) => {
		const out = {};
		for (const p of [...paths, '/events?follow=1'])
			out[p] = (await fetch(p, { cache: 'no-store' })).status;
		out['/events (SSE)'] = (await fetch('/events', { headers: { Accept: 'text/event-stream' } })).status;
		out['/status (Basic)'] = (await fetch('/status', { headers: { Authorization: 'Basic Zm9vOmJhcg==' } })).status;
		return out;
	}, DATA_PATHS);
	for (const [p, s] of Object.entries(statuses))
		check(s === 401, `no token: ${p} answered ${s}`);
	await assertClean(page, log, 'no token');
	await ctx.close();
	return statuses;
}

// 2. A wrong token: refused, the form again with the reason, no data.
async function wrongToken(browser) {
	const { ctx, page, log } = await openPage(browser, '#token=' + encodeURIComponent('wrong-' + TOKEN));
	await page.waitForFunction(() => /refused/.test(document.getElementById('login-error').textContent));
	await page.waitForTimeout(1000);
	check(await page.isHidden('#board'), 'wrong token: the board is hidden');
	check(await rowsShown(page) === 0, 'wrong token: no event rows');
	check(await page.evaluate(() => location.hash) === '', 'wrong token: the fragment is cleared');
	const data = log.responses.filter((r) => DATA_PATHS.includes(r.url));
	check(data.length > 0 && data.every((r) => r.status === 401),
		'wrong token: data answers ' + JSON.stringify(data));
	check(!data.some((r) => r.url === '/events'), 'wrong token: no event request after the refusal');
	await assertClean(page, log, 'wrong token');
	await ctx.close();
	return data;
}

// 3. The right token: live feed, charts, screenshot.
async function withToken(browser) {
	const { ctx, page, log } = await openPage(browser, '#token=' + encodeURIComponent(TOKEN));
	await page.waitForSelector('#board:not([hidden])');
	await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'live');
	check(await page.evaluate(() => location.hash) === '', 'the token is removed from the address bar');
	check(await page.textContent('#st-mode') === 'enforce', 'status: mode');
	check(await page.textContent('#st-policy') === 'e2e-1', 'status: policy version');
	check((await page.textContent('#st-backends')).includes('fanotify'), 'status: backends');
	const before = await page.evaluate(() => {
		const c = Chart.getChart('trend-chart');
		return c.data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0);
	});

	say({ step: 'ready' });

	// Every expected deny arrives through the stream (a "fresh" row), without a reload.
	const rows = await page.waitForFunction((expect) => {
		const found = [];
		for (const e of expect) {
			const tr = [...document.querySelectorAll('#feed-all tr.fresh[data-type="exec"]')].find((r) => {
				const what = r.querySelector('td.what');
				return what && what.title === e.exe && r.cells[3].textContent === 'deny';
			});
			if (!tr)
				return null;
			const what = tr.querySelector('td.what');
			found.push({
				shown: what.firstChild.nodeValue,
				hexTag: what.querySelector('.hex') ? what.querySelector('.hex').title : null,
				severity: tr.cells[1].textContent,
				rule: tr.cells[6].textContent,
				by: tr.cells[7].textContent,
				eventId: tr.dataset.eventId,
			});
		}
		return found;
	}, EXPECT, { timeout: 15000 }).then((h) => h.jsonValue());
	for (let i = 0; i < EXPECT.length; i++) {
		const e = EXPECT[i], r = rows[i];
		check(r.shown === visible(e.exe), `row text ${JSON.stringify(r.shown)} for ${JSON.stringify(e.exe)}`);
		check(r.severity === 'critical' && r.rule === 'no-dashboard-bad', 'row fields ' + JSON.stringify(r));
		check(e.hex ? r.hexTag === 'exact bytes (hex): ' + e.hex : r.hexTag === null, 'hex tag ' + r.hexTag);
	}
	// Nothing from a record became markup.
	const injected = await page.evaluate(() => ({
		pwned: window.__pwned === undefined ? null : window.__pwned,
		imgs: document.querySelectorAll('img').length,
		scripts: [...document.scripts].map((s) => new URL(s.src).pathname),
	}));
	check(injected.pwned === null && injected.imgs === 0, 'markup from a record: ' + JSON.stringify(injected));
	check(JSON.stringify(injected.scripts) ===
		'["/dashboard/chart.umd.min.js","/dashboard/shield.js","/dashboard/denies.js","/dashboard/app.js"]',
		'scripts ' + injected.scripts);

	// The charts: data points for the denies, and pixels on the canvas.
	await page.waitForFunction((n) => {
		const c = Chart.getChart('trend-chart');
		return c.data.datasets[0].data.reduce((a, b) => a + b, 0) >= n;
	}, before + EXPECT.length, { timeout: 5000 });
	const chart = await page.evaluate(() => {
		const trend = Chart.getChart('trend-chart'), top = Chart.getChart('top-chart');
		const pixels = (canvas, want) => {
			const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
			let painted = 0, bars = 0;
			for (let i = 0; i < d.length; i += 4) {
				if (d[i + 3] > 0)
					painted++;
				if (d[i + 3] > 200 && Math.abs(d[i] - want[0]) < 24 && Math.abs(d[i + 1] - want[1]) < 24 &&
				    Math.abs(d[i + 2] - want[2]) < 24)
					bars++;
			}
			return { painted, bars, width: canvas.width, height: canvas.height };
		};
		return {
			trendTotal: trend.data.datasets[0].data.reduce((a, b) => a + b, 0),
			trendPoints: trend.data.labels.length,
			topLabels: top.data.labels,
			topCounts: top.data.datasets[0].data,
			topFull: top.$full,
			trendPixels: pixels(trend.canvas, [0xf8, 0x51, 0x49]),
			topPixels: pixels(top.canvas, [0x58, 0xa6, 0xff]),
		};
	});
	check(chart.trendPoints === 30, 'trend has 30 minutes');
	check(chart.trendPixels.bars > 50, 'trend bars drawn: ' + JSON.stringify(chart.trendPixels));
	check(chart.topPixels.bars > 50, 'top bars drawn: ' + JSON.stringify(chart.topPixels));
	for (const e of EXPECT)
		check(chart.topFull.includes(visible(e.exe)), 'top chart lists ' + JSON.stringify(e.exe));

	// The refused connect and read in their panels; the Shield's drops per CIDR, rising.
	const panels = PANELS ? await checkPanels(page, PANELS, say, check) : null;

	// The token never went into a URL; every data request carried it in the header.
	for (const r of log.requests) {
		check(!r.url().includes(TOKEN), 'token in a URL: ' + r.url());
		if (DATA_PATHS.includes(new URL(r.url()).pathname))
			check((await r.allHeaders()).authorization === 'Bearer ' + TOKEN, 'no bearer header on ' + r.url());
	}
	// The counters follow (the daemon renews them every second, the page polls).
	await page.waitForFunction((n) => Number(document.getElementById('ct-denied').textContent) >= n,
		EXPECT.length, { timeout: 10000 });
	await assertClean(page, log, 'token');
	await page.screenshot({ path: SHOT, fullPage: true });

	// "Forget token" takes everything off the page and stops the stream.
	await page.click('#logout');
	await page.waitForSelector('#login:not([hidden])');
	check(await rowsShown(page) === 0, 'after forgetting the token: no rows');
	check(await page.textContent('#st-policy') === '\u2013', 'after forgetting the token: no status');
	for (const [id, empty] of [['sh-total', '\u2013'], ['sh-state', '\u2013'], ['eg-count', '0'],
		['eg-total', '\u2013'], ['fd-count', '0']])
		check(await page.textContent('#' + id) === empty, 'after forgetting the token: #' + id);
	await ctx.close();
	return { rows, chart, panels };
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
	const noToken = await withoutToken(browser);
	const wrong = await wrongToken(browser);
	const live = await withToken(browser);
	say({ step: 'done', screenshot: SHOT, noToken, wrong, rows: live.rows, chart: live.chart, panels: live.panels });
} finally {
	await browser.close();
}
