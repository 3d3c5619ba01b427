// The layout of a gua HTML report as Chromium drew it, checked from the page
// itself. test-html.sh puts the report in iframes of a harness page (one per
// width, data-width) and this script after them; on load it checks each
// frame and writes one line per check into the element "result":
// "ok WIDTH NAME" or "FAIL WIDTH NAME: what".
"use strict";

function checkFrame(frame, out) {
	const w = frame.dataset.width;
	const d = frame.contentDocument;
	const say = (name, bad) => out.push(bad ? "FAIL " + w + " " + name +
	    ": " + bad : "ok " + w + " " + name);
	const box = (e) => e.getBoundingClientRect();
	const meets = (a, b) => Math.min(a.right, b.right) -
	    Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) -
	    Math.max(a.top, b.top) > 0.5;
	const shown = (e) => {
		const s = d.defaultView.getComputedStyle(e);
		const r = box(e);
		return s.display !== "none" && s.visibility === "visible" &&
		    Number(s.opacity) > 0 && r.width > 0 && r.height > 0;
	};

	// The page never scrolls sideways: wide charts and tables scroll in
	// their own box.
	const root = d.documentElement;
	let wide = "";
	if (root.scrollWidth > root.clientWidth) {
		for (const e of d.body.querySelectorAll("*"))
			if (box(e).right > root.clientWidth + 0.5) {
				wide = e.tagName + (e.id ? "#" + e.id : "") +
				    " reaches " + box(e).right;
				break;
			}
	}
	say("no-horizontal-overflow", root.scrollWidth > root.clientWidth ?
	    "scrollWidth " + root.scrollWidth + " > clientWidth " +
	    root.clientWidth + " (" + wide + ")" : "");

	// §3: every GPU's shares are written out in its row, on screen (at
	// 390 px too) and as the bar draws them.
	const rows = d.querySelectorAll("#gpu-bars tr.gpu");
	let bad = rows.length === 0 ? "no GPU rows" : "";
	for (const tr of rows) {
		const cells = [...tr.querySelectorAll("td.n")];
		const parts = [...tr.querySelectorAll("rect[data-share]")];
		if (cells.length !== 3 || parts.length !== 3) {
			bad = "a GPU without its three numbers";
			break;
		}
		parts.forEach((r, k) => {
			const want = (100 * Number(r.dataset.share)).toFixed(1) +
			    "%";
			const c = cells[k];
			if (c.textContent !== want)
				bad = "'" + c.textContent + "', want " + want;
			else if (!shown(c) || box(c).right > root.clientWidth)
				bad = want + " not on screen (right edge " +
				    box(c).right + ")";
		});
	}
	say("gpu-numbers-visible", bad);

	// The charts share one width on a wide screen.
	if (root.clientWidth >= 1000) {
		const ws = ["headline-bar", "gpu-bars", "timeline-svg"].map(
		    (id) => d.getElementById(id)).filter((e) => e).map(
		    (e) => Math.round(box(e).width));
		say("charts-same-width", ws.length === 3 && Math.max(...ws) -
		    Math.min(...ws) <= 1 ? "" : "widths " + ws.join(", "));
	}

	// §5: both heatmaps, each with its legend of steps in distinct
	// colours, and every cell in its step's colour.
	for (const id of ["heatmap-active", "heatmap-idle-held"]) {
		const map = d.getElementById(id);
		const steps = d.querySelectorAll("#legend-" + id +
		    " li[data-step]");
		bad = "";
		if (!map)
			bad = "no heatmap";
		else if (steps.length !== 10)
			bad = steps.length + " legend steps, want 10";
		const colour = {};
		for (const li of steps) {
			const sw = li.querySelector(".sw");
			if (!sw || !shown(sw) || !shown(li) ||
			    !/[0-9]+.[0-9]+%/.test(li.textContent))
				bad = "legend step " + li.dataset.step +
				    " not shown with its range";
			else
				colour[li.dataset.step] = d.defaultView.
				    getComputedStyle(sw).backgroundColor;
		}
		if (new Set(Object.values(colour)).size !== steps.length)
			bad = bad || "legend steps share a colour";
		if (map) {
			const cells = map.querySelectorAll("rect[data-step]");
			for (const c of cells) {
				// The step of the share its title prints.
				const m = /([0-9.]+)%$/.exec(c.textContent);
				const k = m ? Math.min(9, Math.floor(
				    Number(m[1]) / 10)) : -1;
				const fill = d.defaultView.
				    getComputedStyle(c).fill;
				if (String(k) !== c.dataset.step ||
				    fill !== colour[c.dataset.step])
					bad = "cell " + c.dataset.day + "/" +
					    c.dataset.hour + " share " +
					    c.dataset.share + " drawn " + fill;
			}
			const hours = map.querySelectorAll("text");
			if (hours.length !== 24 + 7)
				bad = bad || hours.length + " labels";
		}
		say(id + "-legend", bad);
	}

	// No text over another: the labels of each chart, the items of each
	// legend, and the content of each table cell inside its cell.
	bad = "";
	for (const svg of d.querySelectorAll("svg")) {
		const ts = [...svg.querySelectorAll("text")].filter(shown);
		for (let i = 0; i < ts.length && !bad; i++)
			for (let j = i + 1; j < ts.length; j++)
				if (meets(box(ts[i]), box(ts[j]))) {
					bad = svg.id + ": '" + ts[i].textContent +
					    "' over '" + ts[j].textContent + "'";
					break;
				}
	}
	for (const ol of d.querySelectorAll("ul.legend, ol.scale")) {
		const items = [...ol.children];
		for (let i = 0; i < items.length && !bad; i++)
			for (let j = i + 1; j < items.length; j++)
				if (meets(box(items[i]), box(items[j])))
					bad = "legend items overlap";
	}
	for (const cell of d.querySelectorAll("td, th")) {
		const c = box(cell);
		for (const n of cell.childNodes) {
			let r;
			if (n.nodeType === 3) {
				const range = d.createRange();
				range.selectNodeContents(n);
				r = range.getBoundingClientRect();
			} else if (n.nodeType === 1) {
				r = box(n);
			} else {
				continue;
			}
			if (r.width > 0 && (r.left < c.left - 0.5 ||
			    r.right > c.right + 0.5))
				bad = bad || "'" + cell.textContent +
				    "' spills out of its cell";
		}
	}
	say("no-text-over-text", bad);

	// §6: each cell on one line, every row as high as the header's.
	const table = d.getElementById("sessions-table");
	bad = table ? "" : "no sessions table";
	if (table) {
		const rows = table.querySelectorAll("tr");
		const h = box(rows[0]).height;
		for (const tr of rows) {
			if (Math.abs(box(tr).height - h) > 1)
				bad = "a row " + box(tr).height + " px high, " +
				    "the header " + h;
			for (const cell of tr.children) {
				const range = d.createRange();
				range.selectNodeContents(cell);
				// Fragments of one line differ in top by
				// a few pixels (code is smaller); a
				// second line is a line-height lower.
				const tops = [...range.getClientRects()].
				    filter((r) => r.width > 0).map((r) =>
				    r.top);
				if (Math.max(...tops) - Math.min(...tops) > 8)
					bad = "'" + cell.textContent +
					    "' on more than one line";
			}
		}
	}
	say("sessions-one-line", bad);
}

window.addEventListener("load", () => {
	const out = [];
	for (const f of document.querySelectorAll("iframe[data-width]")) {
		try {
			checkFrame(f, out);
		} catch (e) {
			out.push("FAIL " + f.dataset.width + " script: " + e);
		}
	}
	document.getElementById("result").textContent = out.join("\n") + "\n";
});
