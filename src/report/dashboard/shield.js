// SPDX-License-Identifier: Apache-2.0
//
// The Shield panel: packets the XDP deny list dropped, per CIDR. The daemon's
// /stats carries only running totals (the "shield" object: counters and
// the hits of every CIDR that has any); the drops of the last minute and
// the rate are the difference between the newest /stats and one about a
// minute older, kept here. app.js hands every /stats answer to stats() and
// calls clear() when the page is locked again; it asks the daemon for nothing.
'use strict';

(function () {
	const TOP_N = 10;		// CIDRs shown
	const WINDOW_MS = 60000;	// "last minute"
	const $ = (id) => document.getElementById(id);

	// Oldest first; the first one is the newest that is at least a minute old
	// (or the first the page saw, when it is younger than a minute).
	let samples = [];

	function sample(sh, now) {
		const c = sh.counters || {};
		const cidrs = new Map();

		if (Array.isArray(sh.cidrs))
			for (const r of sh.cidrs)
				if (r && typeof r.cidr === 'string' && typeof r.hits === 'number')
					cidrs.set(r.cidr, r.hits);
		return { t: now, dropped: c.dropped || 0, matches: c.dry_run_matches || 0, cidrs };
	}

	// Counters start again from 0 when the Shield is reloaded: a value below
	// the older one is all new.
	function since(now, then) {
		return now >= then ? now - then : now;
	}

	function remember(s) {
		samples.push(s);
		while (samples.length > 1 && samples[1].t <= s.t - WINDOW_MS)
			samples.shift();
	}

	function rate(n, ms) {
		return ms > 0 ? (n * 1000 / ms).toFixed(1) + '/s' : '\u2013';
	}

	function stateText(sh, h) {
		if (!sh || !sh.loaded)
			return 'not loaded';
		if (sh.busy)
			return 'rule set being replaced';
		const on = Array.isArray(sh.attached) && sh.attached.length ?
			'on ' + sh.attached.map((x) => h.visible(x)).join(', ') : 'attached nowhere';
		return on + ', ' + h.num(sh.rules) + ' rules' + (sh.dry_run ? ', dry run: counted, not dropped' : '');
	}

	function draw(sh, h) {
		const base = samples[0], cur = samples[samples.length - 1];
		const span = cur.t - base.t;
		const counted = sh.dry_run ? 'matches' : 'dropped';
		const total = sh.dry_run ? cur.matches : cur.dropped;
		const recent = sh.dry_run ? since(cur.matches, base.matches) : since(cur.dropped, base.dropped);
		const rows = [...cur.cidrs.entries()].map(([cidr, hits]) => ({
			cidr, hits, recent: since(hits, base.cidrs.get(cidr) || 0),
		}));

		rows.sort((a, b) => b.hits - a.hits || b.recent - a.recent || (a.cidr < b.cidr ? -1 : 1));
		$('sh-total-label').textContent = counted;
		$('sh-total').textContent = h.num(total);
		$('sh-minute').textContent = h.num(recent);
		$('sh-rate').textContent = rate(recent, span);
		$('sh-cidrs').textContent = h.num(rows.length);
		$('sh-packets').textContent = h.num((sh.counters || {}).packets);
		// Younger than a minute, the page says over how long it counted.
		const label = span >= WINDOW_MS - 2500 ? 'last minute' :
			'last ' + Math.round(span / 1000) + ' s (since the page opened)';
		$('sh-window').textContent = label;
		$('sh-th-window').title = 'drops in the ' + label;

		const body = $('sh-rows'), top = rows.slice(0, TOP_N), max = top.length ? top[0].hits : 0;
		body.replaceChildren();
		for (const r of top) {
			const tr = document.createElement('tr');
			tr.dataset.cidr = r.cidr;
			h.cell(tr, r.cidr, 'cidr');
			h.cell(tr, h.num(r.hits), 'n').dataset.value = String(r.hits);
			h.cell(tr, h.num(r.recent), 'n').dataset.value = String(r.recent);
			h.cell(tr, rate(r.recent, span), 'n');
			const bar = document.createElement('span');
			bar.className = 'bar' + (r.recent ? ' active' : '');
			// CSSOM, not a style attribute: the CSP allows no inline style.
			bar.style.width = (max ? Math.max(1, Math.round(100 * r.hits / max)) : 0) + '%';
			const td = document.createElement('td');
			td.className = 'share';
			td.appendChild(bar);
			tr.appendChild(td);
			body.appendChild(tr);
		}
		let note = '';
		if (!rows.length && total)
			note = 'No per-CIDR counts: the list is longer than the daemon reports them for.';
		else if (!rows.length)
			note = 'No packet dropped yet.';
		else if (rows.length > TOP_N)
			note = (rows.length - TOP_N) + ' more CIDRs with drops not shown.';
		$('sh-note').textContent = note;
	}

	const panel = {
		stats(stats, h) {
			const sh = stats && typeof stats.shield === 'object' && stats.shield ? stats.shield : null;

			$('sh-state').textContent = stateText(sh, h);
			$('shield').dataset.state = !sh || !sh.loaded ? 'off' : (sh.dry_run ? 'dry-run' : 'on');
			if (!sh || !sh.loaded) {
				panel.clear();
				$('sh-state').textContent = stateText(sh, h);
				$('sh-note').textContent = 'The Shield is not loaded on this host (docs/shield.md).';
				return;
			}
			if (sh.busy)
				return;		// the next answer has the counts
			const now = Date.now();
			remember(sample(sh, now));
			draw(sh, h);
		},
		event() {},
		clear() {
			samples = [];
			$('sh-rows').replaceChildren();
			for (const id of ['sh-state', 'sh-total', 'sh-minute', 'sh-rate', 'sh-cidrs', 'sh-packets'])
				$(id).textContent = '\u2013';
			$('sh-note').textContent = '';
		},
	};

	(window.SysGuardPanels = window.SysGuardPanels || []).push(panel);
})();
