// SPDX-License-Identifier: Apache-2.0
//
// The egress and file panels: outbound connections and file accesses the
// policy refused (or, in monitor mode, would have), from the audit records
// app.js reads from /events (docs/audit-log.md: "network" records with
// decision deny; "file_access", and the "file_protect" and "self_defence"
// records of undone tampering). app.js hands each record once to event()
// and every /stats answer to stats(); it asks the daemon for nothing.
'use strict';

(function () {
	const LIST_MAX = 100;		// rows kept in each list
	const $ = (id) => document.getElementById(id);

	const counts = { egress: { blocked: 0, monitor: 0 }, files: { blocked: 0, monitor: 0, undone: 0 } };

	// Where a file rule came from, in the words of the policy docs.
	const SOURCE = { policy: 'files rule', blocklist: 'block list', self_defence: 'self-defence' };

	function isEgressDeny(ev) {
		return ev.type === 'network' && ev.decision === 'deny';
	}

	function isFileDeny(ev) {
		if (ev.type === 'file_access')
			return true;
		if (ev.type === 'file_protect')
			return ev.action === 'immutable_restored';
		return ev.type === 'self_defence';
	}

	function prepend(tbody, tr) {
		tbody.insertBefore(tr, tbody.firstChild);
		while (tbody.rows.length > LIST_MAX)
			tbody.deleteRow(-1);
	}

	function base(ev, fresh, h) {
		const tr = document.createElement('tr');
		tr.className = (ev.severity === 'critical' ? 'sev-critical' : 'sev-warning') + (fresh ? ' fresh' : '');
		tr.dataset.eventId = String(ev.event_id);
		h.cell(tr, h.hhmm(h.eventTime(ev), true)).title = String(ev.ts);
		return tr;
	}

	// The program, and its pid after it (a process may have no exe: a kernel thread, gone).
	function program(tr, ev, h) {
		const p = ev.process || {};
		const td = h.cell(tr, p.exe == null ? (p.comm == null ? '' : p.comm) : p.exe, 'what');
		if (typeof p.exe_hex === 'string')
			td.appendChild(bytesTag(p.exe_hex));
		if (p.pid != null) {
			const pid = document.createElement('span');
			pid.className = 'muted pid';
			pid.textContent = 'pid ' + String(p.pid);
			td.appendChild(pid);
		}
	}

	// The name is not UTF-8: the record gives the exact bytes.
	function bytesTag(hex) {
		const tag = document.createElement('span');
		tag.className = 'hex';
		tag.textContent = 'bytes';
		tag.title = 'exact bytes (hex): ' + hex;
		return tag;
	}

	function egressRow(ev, fresh, h) {
		const d = ev.destination || {}, tr = base(ev, fresh, h);
		const ip = String(d.ip);

		tr.dataset.type = 'network';
		tr.dataset.blocked = String(!!ev.blocked);
		h.cell(tr, (ip.includes(':') ? '[' + ip + ']' : ip) + ':' + String(d.port) + '/' + String(d.protocol),
			'what dest').title += ' (' + String(ev.action) + ')';
		h.cell(tr, ev.blocked ? 'blocked' : 'would block', 'outcome');
		program(tr, ev, h);
		h.cell(tr, ev.rule && ev.rule.name != null ? ev.rule.name : '', 'rule');
		return tr;
	}

	function fileOutcome(ev) {
		if (ev.type === 'file_access') {
			if (ev.decision === 'undo')
				return ev.undone ? 'undone' : 'not undone';
			return ev.blocked ? 'refused' : 'would refuse';
		}
		return String(ev.action).replace(/_/g, ' ');
	}

	function fileRow(ev, fresh, h) {
		const tr = base(ev, fresh, h), f = ev.file || {};
		const rule = typeof ev.rule === 'object' && ev.rule ? ev.rule : { name: ev.rule, source: ev.source };
		const path = f.path != null ? f.path : (ev.path != null ? ev.path : f.name);
		const source = ev.type === 'self_defence' ? 'self_defence' : rule.source;

		tr.dataset.type = String(ev.type);
		tr.dataset.blocked = String(!!ev.blocked);
		const what = h.cell(tr, path == null ? '' : path, 'what path');
		const hex = f.path_hex || ev.path_hex;
		if (typeof hex === 'string')
			what.appendChild(bytesTag(hex));
		h.cell(tr, ev.type === 'self_defence' ? ev.file_kind : ev.action);
		h.cell(tr, fileOutcome(ev), 'outcome');
		h.cell(tr, SOURCE[source] || (source == null ? '' : source));
		program(tr, ev, h);
		h.cell(tr, rule.name == null ? '' : rule.name, 'rule');
		return tr;
	}

	function showCount(id, n) {
		const el = $(id);
		el.textContent = String(n);
		el.toggleAttribute('data-zero', n === 0);
	}

	function showCounts() {
		const e = counts.egress, f = counts.files;
		const ne = e.blocked + e.monitor, nf = f.blocked + f.monitor + f.undone;

		showCount('eg-count', ne);
		$('eg-blocked').textContent = String(e.blocked);
		$('eg-monitor').textContent = String(e.monitor);
		showCount('fd-count', nf);
		$('fd-blocked').textContent = String(f.blocked);
		$('fd-monitor').textContent = String(f.monitor);
		$('fd-undone').textContent = String(f.undone);
		$('eg-empty').hidden = ne > 0;
		$('fd-empty').hidden = nf > 0;
	}

	const panel = {
		stats(stats, h) {
			// The kernel's count covers the daemon's whole run, not only the records this page saw.
			const eg = stats && stats.egress;
			$('eg-total').textContent = eg && typeof eg.denied === 'number' ?
				h.num(eg.denied) : '\u2013';
		},
		event(ev, fresh, h) {
			if (isEgressDeny(ev)) {
				counts.egress[ev.blocked ? 'blocked' : 'monitor']++;
				prepend($('eg-rows'), egressRow(ev, fresh, h));
			} else if (isFileDeny(ev)) {
				const o = fileOutcome(ev);
				counts.files[o === 'refused' ? 'blocked' : (o === 'would refuse' ? 'monitor' : 'undone')]++;
				prepend($('fd-rows'), fileRow(ev, fresh, h));
			} else {
				return;
			}
			showCounts();
		},
		clear() {
			for (const k of Object.keys(counts))
				for (const c of Object.keys(counts[k]))
					counts[k][c] = 0;
			$('eg-rows').replaceChildren();
			$('fd-rows').replaceChildren();
			$('eg-total').textContent = '\u2013';
			showCounts();
		},
	};

	(window.SysGuardPanels = window.SysGuardPanels || []).push(panel);
})();
