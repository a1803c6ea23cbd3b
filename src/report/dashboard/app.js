// SPDX-License-Identifier: Apache-2.0
//
// SysGuard dashboard (OPS-3). Read-only: it only GETs /status, /stats and
// /events (a snapshot, then the Server-Sent Events stream read through
// fetch) with the operator's bearer token. The token comes from the URL
// fragment (#token=..., which browsers never send to a server; removed from
// the address bar at once) or from the form, and lives only in this page's
// memory: no cookie, no storage. The panels of shield.js and denies.js
// (loaded before this file, listed in window.SysGuardPanels) get every
// /stats answer and every new record from here, and fetch nothing. Nothing from a record is ever parsed as
// HTML: values go in with textContent or are drawn on a canvas.
'use strict';

(function () {
	const FEED_MAX = 200;		// rows kept in each feed table
	const MINUTES = 30;		// trend window
	const TOP_N = 8;		// bars in the top-executables chart
	const STATUS_EVERY_MS = 2000;	// the daemon renews its counters every second
	const STALL_MS = 10000;		// the daemon sends a keepalive every second
	const SEEN_MAX = 4096;		// event keys remembered to drop duplicates
	const FRAME_MAX = 4 << 20;	// an unterminated frame larger than this is a broken stream

	const $ = (id) => document.getElementById(id);
	const C = { crit: '#f85149', warn: '#d29922', text: '#c9d1d9', grid: '#30363d', info: '#58a6ff' };

	let token = null;
	let gen = 0;			// bumped when the token goes: stale async work stops
	let streamCtl = null;
	let statusTimer = 0;
	let tickTimer = 0;
	let flushTimer = 0;
	let trendChart = null;
	let topChart = null;
	const seen = new Set();
	const perMinute = new Map();	// minute number -> { enforce, monitor }
	const perExe = new Map();	// exe as shown -> count

	const panels = window.SysGuardPanels || [];

	class Unauthorized extends Error {}

	// -- token -----------------------------------------------------------

	function tokenFromFragment() {
		const frag = location.hash.replace(/^#/, '');
		let t = null;

		for (const part of frag.split('&')) {
			if (!part.startsWith('token='))
				continue;
			try {
				t = decodeURIComponent(part.slice(6));
			} catch (e) {
				t = null;
			}
		}
		if (location.hash)
			history.replaceState(null, '', location.pathname + location.search);
		return t;
	}

	async function get(path, accept, signal) {
		const r = await fetch(path, {
			headers: { Authorization: 'Bearer ' + token, Accept: accept },
			cache: 'no-store', credentials: 'omit', redirect: 'error', signal,
		});
		if (r.status === 401)
			throw new Unauthorized();
		if (!r.ok)
			throw new Error(path + ': HTTP ' + r.status);
		return r;
	}

	// -- text helpers ----------------------------------------------------

	// Control characters made visible (a newline in a file name must not
	// pass for two names); the exact text stays in the cell's tooltip.
	function visible(s) {
		return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
			const m = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }[ch];
			return m || '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
		});
	}

	function shortPath(p, max) {
		return p.length <= max ? p : '\u2026' + p.slice(p.length - max + 1);
	}

	function num(v) {
		return typeof v === 'number' ? v.toLocaleString('en-US') : '\u2013';
	}

	function duration(s) {
		if (typeof s !== 'number')
			return '\u2013';
		const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
		const m = Math.floor(s / 60) % 60, sec = s % 60;
		return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + sec + 's';
	}

	function eventTime(ev) {
		// RFC 3339 with nanoseconds: keep milliseconds for Date.
		const t = Date.parse(String(ev.ts || '').replace(/(\.\d{3})\d*Z$/, '$1Z'));
		return Number.isFinite(t) ? t : Date.now();
	}

	function hhmm(ms, seconds) {
		const d = new Date(ms), p = (n) => String(n).padStart(2, '0');
		return p(d.getHours()) + ':' + p(d.getMinutes()) + (seconds ? ':' + p(d.getSeconds()) : '');
	}

	// -- panels ------------------------------------------------------------

	// A panel that trips over a record must not stop the feed or the others.
	function toPanels(what, ...args) {
		for (const p of panels) {
			try {
				p[what](...args, helpers);
			} catch (e) {
				console.error('dashboard panel: ' + what + ': ' + e);
			}
		}
	}

	// -- status ------------------------------------------------------------

	function setConn(state, text) {
		const el = $('conn');
		el.dataset.state = state;
		el.textContent = text;
	}

	async function refreshStatus(my) {
		let st, stats;

		try {
			[st, stats] = await Promise.all([
				get('/status', 'application/json').then((r) => r.json()),
				get('/stats', 'application/json').then((r) => r.json()),
			]);
		} catch (e) {
			if (my !== gen)
				return 'stale';
			if (e instanceof Unauthorized) {
				lockOut('The daemon refused the token.');
				return 'refused';
			}
			return 'error';
		}
		if (my !== gen)
			return 'stale';
		const mode = $('st-mode');
		mode.textContent = String(st.mode) + (st.break_glass ? ' (break glass)' : '');
		mode.className = st.break_glass ? 'break-glass' : (st.mode === 'enforce' ? 'enforce' : 'monitor');
		$('st-policy').textContent = st.policy_version == null ? 'none' : String(st.policy_version);
		$('st-backends').textContent = Array.isArray(st.backends) && st.backends.length ?
			st.backends.join(', ') : 'none';
		$('st-uptime').textContent = duration(st.uptime_s);
		$('st-daemon').textContent = 'v' + String(st.version) + ', pid ' + String(st.pid);
		const dec = stats.decisions || {}, k = stats.kernel || {};
		$('ct-allowed').textContent = num(dec.allowed);
		$('ct-denied').textContent = num(dec.denied);
		$('ct-kills').textContent = num(k.kills);
		$('ct-mitfail').textContent = num(dec.mitigation_failures);
		$('ct-drops').textContent = num(k.ringbuf_drops);
		$('ct-auditerr').textContent = num(stats.audit_write_errors);
		toPanels('stats', stats);
		$('updated').textContent = 'updated ' + hhmm(Date.now(), true);
		return 'ok';
	}

	// -- events ------------------------------------------------------------

	function cell(tr, text, cls) {
		const td = document.createElement('td');
		td.textContent = visible(text == null ? '' : text);
		td.title = text == null ? '' : String(text);
		if (cls)
			td.className = cls;
		tr.appendChild(td);
		return td;
	}

	// What the panels may use to show values the way the feed does.
	const helpers = { visible, num, hhmm, eventTime, cell };

	// Which container it ran in, as the runtime recorded it: "  [pod ns/name: container, image]".
	function workloadOf(ev) {
		const c = ev.process && ev.process.container;

		if (!c || typeof c !== 'object')
			return '';
		const pod = c.pod_namespace ? String(c.pod_namespace) + '/' + String(c.pod_name) + ': ' : '';
		const name = c.name != null ? String(c.name) : String(c.id).slice(0, 12);
		const image = c.image ? ', ' + String(c.image) : '';
		return '  [' + pod + name + image + (c.verified === false ? ', unverified' : '') + ']';
	}

	function whatOf(ev) {
		const p = ev.process || {};
		const exe = p.exe == null ? '' : String(p.exe);

		switch (ev.type) {
		case 'exec':
			return exe;
		case 'network': {
			const d = ev.destination || {};
			return String(d.ip) + ':' + String(d.port) + '/' + String(d.protocol) + '  ' + exe;
		}
		case 'mitigation':
		case 'action_error':
			return String(ev.action) + ' ' + exe;
		case 'file_access':
		case 'file_protect': {
			const f = ev.file || {};
			return String(ev.action) + ' ' + String(f.path != null ? f.path : f.name) + '  ' + exe;
		}
		case 'self_defence':
			return String(ev.action) + ' ' + String(ev.path);
		case 'policy_reload':
			return String(ev.old_policy_version) + ' \u2192 ' + String(ev.new_policy_version);
		case 'policy_error':
			return String(ev.path) + ':' + String(ev.line) + ': ' + String(ev.error);
		case 'break_glass':
			return String(ev.state) + (ev.reason ? ': ' + String(ev.reason) : '');
		case 'backend':
			return String(ev.backend) + (ev.active ? ' active' : ' inactive');
		default:
			return '';
		}
	}

	function decisionOf(ev) {
		if (ev.decision != null)
			return String(ev.decision) + (ev.type === 'network' && ev.blocked ? ' (blocked)' : '');
		if (ev.result != null)
			return String(ev.result);
		return '';
	}

	function row(ev, fresh) {
		const tr = document.createElement('tr');
		const sev = ['info', 'warning', 'critical'].includes(ev.severity) ? ev.severity : 'info';
		const p = ev.process || {};

		tr.className = 'sev-' + sev + (ev.decision === 'deny' ? ' deny' : '') + (fresh ? ' fresh' : '');
		tr.dataset.eventId = String(ev.event_id);
		tr.dataset.type = String(ev.type);
		cell(tr, hhmm(eventTime(ev), true)).title = String(ev.ts);
		cell(tr, ev.severity);
		cell(tr, ev.type);
		cell(tr, decisionOf(ev));
		const what = cell(tr, whatOf(ev) + workloadOf(ev), 'what');
		if (typeof p.exe_hex === 'string') {
			// The name is not UTF-8: the record gives the exact bytes.
			const tag = document.createElement('span');
			tag.className = 'hex';
			tag.textContent = 'bytes';
			tag.title = 'exact bytes (hex): ' + p.exe_hex;
			what.appendChild(tag);
		}
		cell(tr, p.pid);
		cell(tr, ev.rule && ev.rule.name != null ? ev.rule.name : (ev.default_action ? '(default)' : ''));
		cell(tr, ev.enforced_by != null ? ev.enforced_by : ev.backend);
		return tr;
	}

	function prepend(tbody, tr) {
		tbody.insertBefore(tr, tbody.firstChild);
		while (tbody.rows.length > FEED_MAX)
			tbody.deleteRow(-1);
	}

	function countDeny(ev) {
		const minute = Math.floor(eventTime(ev) / 60000);
		const b = perMinute.get(minute) || { enforce: 0, monitor: 0 };
		const exe = ev.process && ev.process.exe != null ? visible(ev.process.exe) : '(unknown)';

		if (ev.mode === 'monitor')
			b.monitor++;
		else
			b.enforce++;
		perMinute.set(minute, b);
		perExe.set(exe, (perExe.get(exe) || 0) + 1);
	}

	// Adds one record; false when it was seen already (snapshot and stream overlap).
	function addEvent(ev, fresh) {
		if (!ev || typeof ev !== 'object')
			return false;
		const key = String(ev.event_id) + '@' + String(ev.ts);
		if (seen.has(key))
			return false;
		seen.add(key);
		if (seen.size > SEEN_MAX)
			seen.delete(seen.values().next().value);
		prepend($('feed-all'), row(ev, fresh));
		if (ev.severity === 'warning' || ev.severity === 'critical')
			prepend($('feed-alerts'), row(ev, fresh));
		if (ev.type === 'exec' && ev.decision === 'deny')
			countDeny(ev);
		toPanels('event', ev, fresh);
		return true;
	}

	function scheduleCharts() {
		if (!flushTimer)
			flushTimer = setTimeout(() => { flushTimer = 0; drawCharts(); }, 100);
	}

	// -- charts ------------------------------------------------------------

	function makeCharts() {
		if (trendChart || typeof Chart === 'undefined')
			return;
		Chart.defaults.color = C.text;
		Chart.defaults.borderColor = C.grid;
		Chart.defaults.font.family = 'system-ui, "DejaVu Sans", sans-serif';
		trendChart = new Chart($('trend-chart'), {
			type: 'bar',
			data: {
				labels: [],
				datasets: [
					{ label: 'blocked (enforce)', data: [], backgroundColor: C.crit },
					{ label: 'would block (monitor)', data: [], backgroundColor: C.warn },
				],
			},
			options: {
				animation: false, responsive: true, maintainAspectRatio: false,
				scales: {
					x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
					y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
				},
				plugins: { legend: { position: 'bottom' } },
			},
		});
		topChart = new Chart($('top-chart'), {
			type: 'bar',
			data: { labels: [], datasets: [{ label: 'denied execs', data: [], backgroundColor: C.info }] },
			options: {
				indexAxis: 'y', animation: false, responsive: true, maintainAspectRatio: false,
				scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
				plugins: {
					legend: { display: false },
					tooltip: { callbacks: { title: (items) => items.length ? topChart.$full[items[0].dataIndex] : '' } },
				},
			},
		});
		topChart.$full = [];
	}

	function drawCharts() {
		if (!trendChart)
			return;
		const now = Math.floor(Date.now() / 60000);
		const labels = [], enforce = [], monitor = [];

		for (const m of perMinute.keys())
			if (m <= now - MINUTES)
				perMinute.delete(m);
		for (let m = now - MINUTES + 1; m <= now; m++) {
			const b = perMinute.get(m) || { enforce: 0, monitor: 0 };
			labels.push(hhmm(m * 60000, false));
			enforce.push(b.enforce);
			monitor.push(b.monitor);
		}
		trendChart.data.labels = labels;
		trendChart.data.datasets[0].data = enforce;
		trendChart.data.datasets[1].data = monitor;
		trendChart.update('none');

		const top = [...perExe.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP_N);
		topChart.$full = top.map((e) => e[0]);
		topChart.data.labels = top.map((e) => shortPath(e[0], 36));
		topChart.data.datasets[0].data = top.map((e) => e[1]);
		topChart.update('none');
	}

	// -- the stream --------------------------------------------------------

	function frame(text) {
		const data = text.split('\n').filter((l) => l.startsWith('data:'))
			.map((l) => l.slice(5).replace(/^ /, '')).join('\n');
		let ev;

		if (!data)
			return;		// a keepalive comment
		try {
			ev = JSON.parse(data);
		} catch (e) {
			return;
		}
		if (addEvent(ev, true))
			scheduleCharts();
	}

	async function stream(my, attempt) {
		if (my !== gen)
			return;
		const ctl = new AbortController();
		let stall = 0;
		const arm = () => { clearTimeout(stall); stall = setTimeout(() => ctl.abort(), STALL_MS); };

		streamCtl = ctl;
		setConn('connecting', attempt ? 'reconnecting' : 'connecting');
		try {
			arm();
			// The stream first, then the snapshot: nothing falls between them.
			const r = await get('/events', 'text/event-stream', ctl.signal);
			const snap = await (await get('/events', 'application/json', ctl.signal)).json();
			if (my !== gen)
				return;
			if (Array.isArray(snap))
				for (const ev of snap)
					addEvent(ev, false);
			drawCharts();
			setConn('live', 'live');
			attempt = 0;
			const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
			let buf = '';
			for (;;) {
				arm();
				const { value, done } = await reader.read();
				if (done || my !== gen)
					break;
				buf += value;
				let i;
				while ((i = buf.indexOf('\n\n')) >= 0) {
					frame(buf.slice(0, i));
					buf = buf.slice(i + 2);
				}
				if (buf.length > FRAME_MAX)
					break;
			}
		} catch (e) {
			if (e instanceof Unauthorized) {
				if (my === gen)
					lockOut('The daemon refused the token.');
				return;
			}
		} finally {
			clearTimeout(stall);
			ctl.abort();	// close the connection whatever ended the loop
		}
		if (my !== gen)
			return;
		setConn('down', 'disconnected, retrying');
		setTimeout(() => stream(my, attempt + 1), Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)));
	}

	// -- life cycle --------------------------------------------------------

	function clearData() {
		$('feed-all').replaceChildren();
		$('feed-alerts').replaceChildren();
		seen.clear();
		perMinute.clear();
		perExe.clear();
		for (const id of ['st-mode', 'st-policy', 'st-backends', 'st-uptime', 'st-daemon', 'ct-allowed',
			'ct-denied', 'ct-kills', 'ct-mitfail', 'ct-drops', 'ct-auditerr'])
			$(id).textContent = '\u2013';
		$('updated').textContent = '';
		toPanels('clear');
		drawCharts();
	}

	function lockOut(message) {
		gen++;
		token = null;
		if (streamCtl)
			streamCtl.abort();
		streamCtl = null;
		clearInterval(statusTimer);
		clearInterval(tickTimer);
		clearData();
		$('board').hidden = true;
		$('logout').hidden = true;
		$('login').hidden = false;
		$('login-error').textContent = message || '';
		setConn('locked', 'no token');
		$('token').focus();
	}

	async function start(t) {
		const my = ++gen;
		let got;

		// A header value must be printable ASCII (fetch would throw on anything else).
		if (!/^[\x20-\x7e]+$/.test(t)) {
			lockOut('A token is printable ASCII; this one is not.');
			return;
		}
		token = t;
		setConn('connecting', 'checking token');
		// Show nothing until the daemon has accepted the token.
		while ((got = await refreshStatus(my)) === 'error') {
			setConn('down', 'daemon unreachable, retrying');
			await new Promise((resolve) => setTimeout(resolve, 2000));
		}
		if (got !== 'ok')
			return;
		$('login').hidden = true;
		$('board').hidden = false;
		$('logout').hidden = false;
		makeCharts();
		drawCharts();
		statusTimer = setInterval(() => refreshStatus(my), STATUS_EVERY_MS);
		tickTimer = setInterval(drawCharts, 15000);	// the trend window moves on
		stream(my, 0);
	}

	function main() {
		$('login-form').addEventListener('submit', (e) => {
			e.preventDefault();
			const t = $('token').value.trim();
			$('token').value = '';
			if (t)
				start(t);
		});
		$('logout').addEventListener('click', () => lockOut(''));
		$('only-alerts').addEventListener('change', (e) => {
			$('feed-all').hidden = e.target.checked;
			$('feed-alerts').hidden = !e.target.checked;
		});
		const t = tokenFromFragment();
		if (t)
			start(t);
		else
			lockOut('');
	}

	main();
})();
