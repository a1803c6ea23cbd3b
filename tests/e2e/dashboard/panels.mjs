// SPDX-License-Identifier: Apache-2.0
//
// The Shield, egress and file panels, checked in the page check.mjs opened
// with the token. want (DASH_PANELS, from tests/e2e/test_dashboard.py):
//   egress: {dest, rule, exe, pid}   the connect the test got refused
//   file:   {path, rule, pid}        the read the test got refused
//   shield: {first: {cidr: n}, more: {cidr: n}}  packets from denied CIDRs:
//           the first batch is sent before, "more" after {"step":"shield"}
// Everything is read from the DOM, as an operator would read the page.

// A fresh row (it came through the stream) of a panel, as text.
function rowOf({ sel, col, text }) {
	const tr = [...document.querySelectorAll(sel)].find((r) =>
		r.cells[col].firstChild && r.cells[col].firstChild.nodeValue === text);
	if (!tr)
		return null;
	return [...tr.cells].map((td) => ({
		text: td.firstChild ? td.firstChild.nodeValue : '',
		title: td.title,
		pid: td.querySelector('.pid') ? td.querySelector('.pid').textContent : null,
	}));
}

async function egressPanel(page, w, check) {
	const r = await page.waitForFunction(rowOf,
		{ sel: '#eg-rows tr.fresh[data-type="network"]', col: 1, text: w.dest }, { timeout: 15000 }).catch(() => null);
	check(r, 'egress panel: no row for ' + w.dest);
	const cells = await r.jsonValue();
	check(cells[2].text === 'blocked', 'egress outcome ' + JSON.stringify(cells));
	check(cells[3].title === w.exe && cells[3].pid === 'pid ' + w.pid, 'egress program ' + JSON.stringify(cells[3]));
	check(cells[4].text === w.rule, 'egress rule ' + JSON.stringify(cells[4]));
	const counts = await page.evaluate(() => ({
		count: Number(document.getElementById('eg-count').textContent),
		blocked: Number(document.getElementById('eg-blocked').textContent),
		empty: document.getElementById('eg-empty').hidden,
	}));
	check(counts.count >= 1 && counts.blocked >= 1 && counts.empty, 'egress counts ' + JSON.stringify(counts));
	// The daemon's own count (stats.egress.denied) follows, through /stats.
	await page.waitForFunction(() => Number(document.getElementById('eg-total').textContent) >= 1,
		null, { timeout: 10000 });
	return { cells, counts };
}

async function filePanel(page, w, check) {
	const r = await page.waitForFunction(rowOf,
		{ sel: '#fd-rows tr.fresh[data-type="file_access"]', col: 1, text: w.path }, { timeout: 15000 }).catch(() => null);
	check(r, 'file panel: no row for ' + w.path);
	const cells = await r.jsonValue();
	check(cells[3].text === 'refused', 'file outcome ' + JSON.stringify(cells));
	check(cells[4].text === 'files rule', 'file rule source ' + JSON.stringify(cells[4]));
	check(cells[5].pid === 'pid ' + w.pid, 'file program ' + JSON.stringify(cells[5]));
	check(cells[6].text === w.rule, 'file rule ' + JSON.stringify(cells[6]));
	const count = await page.evaluate(() => Number(document.getElementById('fd-count').textContent));
	check(count >= 1, 'file count ' + count);
	return { cells, count };
}

// {cidr: {dropped, minute, rate}} of the Shield table, in the order shown.
function shieldRows() {
	const rows = {}, order = [];
	for (const tr of document.querySelectorAll('#sh-rows tr')) {
		order.push(tr.dataset.cidr);
		rows[tr.dataset.cidr] = {
			dropped: Number(tr.cells[1].dataset.value),
			minute: Number(tr.cells[2].dataset.value),
			rate: tr.cells[3].textContent,
			shown: tr.cells[0].textContent,
		};
	}
	return { rows, order };
}

// Every cidr in want has at least its count on the page: the counts, else null.
function atLeast(want) {
	const got = {};
	for (const [cidr, n] of Object.entries(want)) {
		const tr = [...document.querySelectorAll('#sh-rows tr')].find((r) => r.dataset.cidr === cidr);
		if (!tr || Number(tr.cells[1].dataset.value) < n)
			return null;
		got[cidr] = Number(tr.cells[1].dataset.value);
	}
	return got;
}

async function shieldPanel(page, w, say, check) {
	const first = await page.waitForFunction(atLeast, w.first, { timeout: 20000 })
		.then((h) => h.jsonValue()).catch(() => null);
	check(first, 'shield panel: first drops not shown ' + JSON.stringify(await page.evaluate(shieldRows)));
	say({ step: 'shield', drops: first });
	// The test sends more now: the counts rise without a reload.
	const target = {};
	for (const [cidr, n] of Object.entries(w.more))
		target[cidr] = first[cidr] + n;
	const after = await page.waitForFunction(atLeast, target, { timeout: 20000 })
		.then((h) => h.jsonValue()).catch(() => null);
	check(after, 'shield panel: the drops did not rise to ' + JSON.stringify(target) + ': ' +
		JSON.stringify(await page.evaluate(shieldRows)));
	const shown = await page.evaluate(shieldRows);
	const head = await page.evaluate(() => ({
		total: Number(document.getElementById('sh-total').textContent.replace(/,/g, '')),
		minute: Number(document.getElementById('sh-minute').textContent.replace(/,/g, '')),
		rate: document.getElementById('sh-rate').textContent,
		cidrs: Number(document.getElementById('sh-cidrs').textContent),
		state: document.getElementById('sh-state').textContent,
	}));
	for (const [cidr, n] of Object.entries(w.more)) {
		const r = shown.rows[cidr];
		// The page saw the Shield before the first packet: all of them are in its last minute.
		check(r.minute >= n && r.minute <= r.dropped, 'last minute of ' + cidr + ': ' + JSON.stringify(r));
		check(/^\d+\.\d\/s$/.test(r.rate) && parseFloat(r.rate) > 0, 'rate of ' + cidr + ': ' + r.rate);
	}
	check(/^\d+\.\d\/s$/.test(head.rate) && parseFloat(head.rate) > 0, 'total rate ' + head.rate);
	check(head.minute > 0 && head.minute <= head.total, 'shield last minute ' + JSON.stringify(head));
	check(/^on sgshb0, 2 rules$/.test(head.state), 'shield state ' + JSON.stringify(head.state));
	const rose = {};
	for (const cidr of Object.keys(w.more))
		rose[cidr] = [first[cidr], after[cidr]];
	return { ...shown, ...head, rose };
}

export async function checkPanels(page, want, say, check) {
	const egress = await egressPanel(page, want.egress, check);
	const file = await filePanel(page, want.file, check);
	const shield = await shieldPanel(page, want.shield, say, check);
	return { egress, file, shield };
}
