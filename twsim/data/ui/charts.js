/* twsim: the report's charts and tables, drawn with uPlot.
 *
 * Shared by the live page (its Report tab) and the self-contained HTML reports. A document is
 * {kind: "report" | "load" | "diff", title, ...}; drawReport(container, doc) renders it. Every
 * chart is listed in window.twsimCharts ({id, title, series, points, plot}) so tests and
 * curious people can see what was drawn. Text goes in through textContent only.
 */
(function (global) {
  "use strict";

  const charts = (global.twsimCharts = global.twsimCharts || []);
  const COLORS = {
    pos1: "#1f6fb4",
    pos2: "#e8710a",
    pos3: "#7b4bb7",
    pos4: "#8c564b",
    replies: "#1e8a3a",
    api: "#0b7a83",
    errors: "#c5221f",
    p50: "#1f6fb4",
    p90: "#e8710a",
    p99: "#c5221f",
    max: "#5f6368",
    before: "#5f6368",
    after: "#1f6fb4",
  };
  const SIDE_LABELS = {
    emails: "emails",
    log_lines: "log lines",
    db_rows: "database rows",
    app_cpu_ms: "app CPU ms",
    app_rss_mb: "app RSS MB",
  };
  const SIDE_COLORS = ["#1f6fb4", "#e8710a", "#7b4bb7", "#1e8a3a", "#c5221f"];

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function money(cur, value) {
    const sign = cur === "USD" ? "$" : (cur || "") + " ";
    return sign + (value === null || value === undefined ? "0" : value);
  }

  function ms(value) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(1) + " ms";
  }

  function num(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function docsLink(code) {
    return h("a", { href: "https://www.twilio.com/docs/errors/" + code, rel: "noreferrer", target: "_blank" }, String(code));
  }

  /* -- charts ------------------------------------------------------------------------------- */

  function widthOf(el) {
    const w = el.clientWidth || (el.parentElement && el.parentElement.clientWidth) || 640;
    return Math.max(260, Math.min(w - 8, 1400));
  }

  function figure(host, id, title, note) {
    const box = h("figure", { class: "chart", id: "chart-" + id, "data-chart": id });
    box.append(h("figcaption", {}, title));
    if (note) box.append(h("p", { class: "note" }, note));
    host.append(box);
    return box;
  }

  function plot(host, id, title, opts, data, note) {
    if (typeof uPlot === "undefined") throw new Error("uPlot did not load");
    const box = figure(host, id, title, note);
    const height = opts.height || 220;
    const u = new uPlot(
      Object.assign({ width: widthOf(box), height: height, legend: { live: true } }, opts),
      data,
      box,
    );
    charts.push({ id: id, title: title, series: opts.series.length - 1, points: data[0].length, plot: u, element: box });
    return u;
  }

  function seriesOf(spec) {
    const kind = spec.kind || "line";
    const s = { label: spec.label, stroke: spec.color, width: kind === "bars" ? 1 : 2, spanGaps: false };
    if (spec.value) s.value = spec.value;
    if (kind === "bars") {
      s.fill = spec.color + "d0";
      s.paths = uPlot.paths.bars({ size: spec.size || [0.9, 40], align: spec.align || 0 });
      s.points = { show: false };
    } else if (kind === "points") {
      s.paths = () => null;
      s.points = { show: true, size: 9, fill: spec.color, stroke: spec.color };
    } else if (kind === "step") {
      s.paths = uPlot.paths.stepped({ align: 1 });
      s.points = { show: false };
    } else if (kind === "dots") {
      s.spanGaps = true;
      s.points = { show: true, size: 5, fill: spec.color };
    } else {
      s.points = { show: false };
    }
    return s;
  }

  /* A time axis in seconds with one line, bar or point series each. */
  function timeChart(host, id, title, x, specs, yLabel, note, xLabel) {
    const opts = {
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
      axes: [{ label: xLabel || "seconds into the run" }, { label: yLabel, size: 60 }],
      series: [{ label: "t (s)", value: (u, v) => (v === null ? "" : Number(v).toFixed(2)) }].concat(specs.map(seriesOf)),
    };
    return plot(host, id, title, opts, [x].concat(specs.map((s) => s.values)), note);
  }

  /* Categories along x (positions, senders, codes), one bar series each (two side by side). */
  function barChart(host, id, title, labels, specs, yLabel, note) {
    const x = labels.map((_, i) => i);
    const long = labels.some((l) => String(l).length > 6);
    const two = specs.length === 2;
    const opts = {
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(labels.length, 1) - 0.5] },
        y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.15 : 1] },
      },
      axes: [
        {
          splits: () => x,
          values: (u, splits) => splits.map((v) => (labels[v] === undefined ? "" : String(labels[v]))),
          rotate: long ? -25 : 0,
          size: long ? 80 : 40,
          gap: 4,
        },
        { label: yLabel, size: 60 },
      ],
      series: [{ label: "", value: (u, v) => (v === null || labels[v] === undefined ? "" : String(labels[v])) }].concat(
        specs.map((s, i) =>
          seriesOf(Object.assign({ kind: "bars", size: [two ? 0.4 : 0.6, 80], align: two ? (i === 0 ? -1 : 1) : 0 }, s)),
        ),
      ),
    };
    return plot(host, id, title, opts, [x].concat(specs.map((s) => s.values)), note);
  }

  /* Stacked bars: each series drawn as the running total, the legend showing its own value. */
  function stacked(specs) {
    const totals = [];
    const out = specs.map((s) => {
      const values = s.values.map((v, i) => {
        totals[i] = (totals[i] || 0) + (v || 0);
        return totals[i];
      });
      const own = s.values;
      return Object.assign({}, s, { values: values, value: (u, v, si, i) => (i === null || i === undefined ? "" : own[i]) });
    });
    return out.reverse(); // the tallest first, so each shorter bar is drawn over it
  }

  function clear(container) {
    for (let i = charts.length - 1; i >= 0; i--) {
      if (container.contains(charts[i].element)) {
        charts[i].plot.destroy();
        charts.splice(i, 1);
      }
    }
    container.textContent = "";
  }

  let resizeTimer = null;
  global.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const c of charts) {
        if (c.element.isConnected) c.plot.setSize({ width: widthOf(c.element), height: c.plot.height });
      }
    }, 100);
  });

  /* -- tables and tiles --------------------------------------------------------------------- */

  function table(caption, headers, rows, numeric) {
    const t = h("table", { class: "data" });
    if (caption) t.append(h("caption", {}, caption));
    t.append(h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { scope: "col", class: numeric && i > 0 ? "num" : null }, x)))));
    t.append(h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: numeric && i > 0 ? "num" : null }, c))))));
    return h("div", { class: "table-wrap" }, t);
  }

  function tiles(items) {
    return h(
      "dl",
      { class: "tiles" },
      items.map(([label, value, detail]) =>
        h("div", { class: "tile" }, h("dt", {}, label), h("dd", {}, String(value)), detail ? h("dd", { class: "detail" }, detail) : null),
      ),
    );
  }

  function section(container, id, title) {
    const s = h("section", { class: "report-section", id: "section-" + id, "aria-labelledby": "heading-" + id });
    s.append(h("h2", { id: "heading-" + id }, title));
    container.append(s);
    return s;
  }

  function errorTotal(report) {
    return Object.values(report.errors || {}).reduce((a, b) => a + b, 0);
  }

  function meaningOf(doc, code) {
    const m = (doc.codes || {})[code];
    return m ? m.meaning : "";
  }

  /* -- one run ------------------------------------------------------------------------------ */

  function timelineSpecs(series, prefix) {
    const pos = series.inbound || {};
    const specs = stacked([
      { label: "1st texts", values: pos["1"] || [], color: COLORS.pos1, kind: "bars" },
      { label: "2nd texts", values: pos["2"] || [], color: COLORS.pos2, kind: "bars" },
      { label: "3rd texts", values: pos["3"] || [], color: COLORS.pos3, kind: "bars" },
      { label: "4th+ texts", values: pos["4+"] || [], color: COLORS.pos4, kind: "bars" },
    ]);
    return specs.concat([
      { label: "TwiML replies", values: series.replies || [], color: COLORS.replies },
      { label: "REST sends", values: series.api || [], color: COLORS.api },
      { label: "errors", values: (series.errors || []).map((v) => (v ? v : null)), color: COLORS.errors, kind: "points" },
    ]).map((s) => Object.assign(s, { label: (prefix || "") + s.label }));
  }

  function perSecondNote(series) {
    return "Counts per " + series.bucket_s + " s; inbound texts stacked by burst position (1st text, first re-text, ...).";
  }

  function percentileChart(host, id, title, x, p, note, xLabel) {
    return timeChart(
      host,
      id,
      title,
      x,
      [
        { label: "p50", values: p.p50, color: COLORS.p50, kind: "dots" },
        { label: "p90", values: p.p90, color: COLORS.p90, kind: "dots" },
        { label: "p99", values: p.p99, color: COLORS.p99, kind: "dots" },
        { label: "max", values: p.max, color: COLORS.max, kind: "dots" },
      ],
      "ms",
      note,
      xLabel,
    );
  }

  function histogramChart(host, id, hist, title) {
    const labels = hist.edges_ms.map((e) => (e < 10 ? e.toFixed(1) : Math.round(e)));
    return barChart(host, id, title || "Webhook latency histogram", labels, [{ label: "webhooks", values: hist.counts, color: COLORS.p50 }], "webhooks", "Each bar: latencies from its value (ms) to the next bar's; bins about 9% wide.");
  }

  function drawRun(container, doc) {
    const r = doc.report;
    const s = doc.series;
    const cur = r.currency;
    const amp = r.amplification;
    const lat = r.webhook.latency_ms;
    container.append(
      tiles([
        ["inbound texts", r.inbound.count, r.inbound.segments + " segments from " + r.senders + " senders"],
        ["outbound messages", r.outbound.count, r.outbound.by_origin.reply.count + " replies + " + r.outbound.by_origin.api.count + " REST"],
        ["amplification", num(amp.messages, 2) + " per text", num(amp.segments, 2) + " segments, " + money(cur, num(amp.cost, 4)) + " per text"],
        ["total cost", money(cur, r.total_cost), "inbound " + money(cur, r.inbound.cost) + ", outbound " + money(cur, r.outbound.cost)],
        ["webhook latency", "p99 " + ms(lat.p99), "p50 " + ms(lat.p50) + ", max " + ms(lat.max)],
        ["errors", errorTotal(r), r.webhook.failures + " webhook failures"],
        ["duration", num(r.duration_s, 1) + " s", r.webhook.requests + " webhooks"],
      ]),
    );

    const tl = section(container, "timeline", "Timeline");
    timeChart(tl, "timeline", "Inbound texts and outbound messages along the run", s.t, timelineSpecs(s), "messages", perSecondNote(s));

    const wh = section(container, "latency", "Webhook latency and schedule");
    if (s.latency_histogram.counts.length) {
      histogramChart(wh, "latency-histogram", s.latency_histogram);
      percentileChart(wh, "latency-over-time", "Webhook latency percentiles over time", s.t, s.latency_ms, "Per " + s.bucket_s + " s.");
    } else {
      wh.append(h("p", { class: "empty" }, "No webhook was answered in this run."));
    }
    const late = s.lateness_ms;
    if (late && late.t.length) {
      percentileChart(
        wh,
        "lateness",
        "Schedule lateness: how late each planned text was sent",
        late.t,
        late,
        r.lateness_ms.sends + " planned sends; per " + late.bucket_s + " s of the schedule.",
        "seconds into the schedule",
      );
    }

    const bp = section(container, "positions", "Amplification by burst position");
    if (r.by_position.length) {
      barChart(bp, "amplification-by-position", "Outbound messages per inbound text, by its position in the sender's burst", r.by_position.map((p) => "#" + p.position), [{ label: "per text", values: r.by_position.map((p) => p.amplification), color: COLORS.pos1 }], "outbound per text");
      bp.append(table(null, ["position", "inbound", "outbound", "per text", "cost"], r.by_position.map((p) => [p.position, p.inbound, p.outbound, num(p.amplification, 2), money(cur, p.cost)]), true));
    } else {
      bp.append(h("p", { class: "empty" }, "No inbound texts."));
    }

    drawCost(section(container, "cost", "Cost breakdown"), r, s, "cost-breakdown");

    const ws = section(container, "senders", "Worst senders");
    if (r.worst_senders.length) {
      barChart(ws, "worst-senders", "Outbound messages caused, by sender", r.worst_senders.map((w) => w.sender), [{ label: "caused", values: r.worst_senders.map((w) => w.outbound), color: COLORS.pos2 }], "messages");
      ws.append(table(null, ["sender", "texts", "caused", "per text", "cost"], r.worst_senders.map((w) => [w.sender, w.inbound, w.outbound, num(w.amplification, 2), money(cur, w.cost)]), true));
    } else {
      ws.append(h("p", { class: "empty" }, "No senders."));
    }
    const repeated = (r.repeated_answers || []).filter((x) => x.sender);
    if (repeated.length) {
      ws.append(table("Answered more than once for the same text", ["sender", "text", "answered"], repeated.map((x) => [x.sender, x.body, x.answered]), false));
    }

    const er = section(container, "errors", "Errors by Twilio code");
    const codes = Object.keys(r.errors || {});
    if (codes.length) {
      barChart(er, "errors-by-code", "Errors by Twilio code", codes, [{ label: "errors", values: codes.map((c) => r.errors[c]), color: COLORS.errors }], "errors");
      er.append(table(null, ["code", "meaning", "count"], codes.map((c) => [docsLink(c), meaningOf(doc, c), r.errors[c]]), false));
    } else {
      er.append(h("p", { class: "empty" }, "No errors."));
    }

    const uc = section(container, "ucs2", "UCS-2 offenders");
    const u = r.ucs2;
    if (u.messages) {
      barChart(uc, "ucs2", "Outbound messages forced to UCS-2, by character", u.chars.map((c) => c.char + " " + c.codepoint), [{ label: "messages", values: u.chars.map((c) => c.messages), color: COLORS.pos3 }], "messages");
      uc.append(h("p", {}, u.messages + " outbound message(s) in UCS-2; " + u.extra_segments + " extra segment(s) and " + money(cur, u.extra_cost) + " more than GSM-7 would have cost."));
      uc.append(table(null, ["character", "code point", "messages"], u.chars.map((c) => [h("mark", { class: "ucs2" }, c.char), c.codepoint, c.messages]), false));
    } else {
      uc.append(h("p", { class: "empty" }, "Every outbound message fit GSM-7."));
    }

    drawSideEffects(container, r, s);
  }

  function costParts(r, s) {
    const parts = [
      ["inbound", s && s.cost ? s.cost.inbound : { price: r.inbound.cost, carrier_fees: "0" }],
      ["TwiML replies", s && s.cost ? s.cost.replies : { price: r.outbound.by_origin.reply.cost, carrier_fees: "0" }],
      ["REST sends", s && s.cost ? s.cost.api : { price: r.outbound.by_origin.api.cost, carrier_fees: "0" }],
    ];
    return parts;
  }

  function drawCost(host, r, s, id) {
    const cur = r.currency;
    const parts = costParts(r, s);
    barChart(
      host,
      id,
      "What the run cost, by kind (" + cur + ")",
      parts.map((p) => p[0]),
      stacked([
        { label: "price", values: parts.map((p) => Number(p[1].price)), color: COLORS.pos1 },
        { label: "carrier fees", values: parts.map((p) => Number(p[1].carrier_fees)), color: COLORS.pos2 },
      ]).map((x) => Object.assign(x, { size: [0.6, 80], align: 0 })),
      cur,
      "Carrier fees stacked on the price.",
    );
    host.append(
      table(
        null,
        ["", "price", "carrier fees", "total"],
        parts
          .map((p) => [p[0], money(cur, p[1].price), money(cur, p[1].carrier_fees), money(cur, (Number(p[1].price) + Number(p[1].carrier_fees)).toFixed(4))])
          .concat([["total", "", "", money(cur, r.total_cost)]]),
        true,
      ),
    );
  }

  function sideTable(side) {
    const names = Object.keys(side);
    const columns = [];
    for (const n of names) {
      const v = side[n];
      if (v && typeof v === "object" && !Array.isArray(v)) {
        for (const k of Object.keys(v)) if (typeof v[k] !== "object" && !columns.includes(k)) columns.push(k);
      }
    }
    if (!columns.length) columns.push("value");
    return table(
      null,
      ["side effect"].concat(columns.map((c) => c.replace(/_/g, " "))),
      names.map((n) => {
        const v = side[n];
        const label = SIDE_LABELS[n] || n.replace(/_/g, " ");
        if (v && typeof v === "object" && !Array.isArray(v)) return [label].concat(columns.map((c) => (v[c] === undefined || typeof v[c] === "object" ? "" : v[c])));
        return [label].concat(columns.map((c, i) => (i === 0 ? v : "")));
      }),
      true,
    );
  }

  function drawSideEffects(container, r, s) {
    const series = s && s.side_effects;
    if (!r.side_effects && !series) return;
    const se = section(container, "side-effects", "Side effects");
    if (r.side_effects) se.append(sideTable(r.side_effects));
    if (series) {
      const names = Object.keys(series);
      timeChart(
        se,
        "side-effects",
        "The app's side effects along the run",
        s.t,
        names.map((n, i) => ({ label: SIDE_LABELS[n] || n, values: series[n], color: SIDE_COLORS[i % SIDE_COLORS.length] })),
        "per " + s.bucket_s + " s",
        "Emails, log lines and rows per bucket; CPU ms used in it; RSS its highest.",
      );
    }
  }

  /* -- load --------------------------------------------------------------------------------- */

  function drawLoad(container, doc) {
    const r = doc.result;
    const s = doc.series;
    const lat = r.latency_ms;
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    container.append(
      tiles([
        ["requests", r.requests, r.successes + " succeeded, " + r.failures + " failed"],
        ["throughput", num(r.throughput_rps, 1) + " /s", num(r.elapsed_s, 2) + " s in all"],
        ["latency", "p99 " + ms(lat.p99), "p50 " + ms(lat.p50) + ", max " + ms(lat.max)],
        ["replies", r.replies.count, num(r.amplification, 2) + " per request"],
        ["estimated cost", "$" + r.total_cost, "inbound $" + r.inbound.cost + ", replies $" + r.replies.cost],
        ["errors", errors, ""],
      ]),
    );
    const tl = section(container, "timeline", "Timeline");
    timeChart(
      tl,
      "timeline",
      "Webhooks answered and replies asked for, along the run",
      s.t,
      [
        { label: "answered", values: s.inbound["1"], color: COLORS.pos1, kind: "bars" },
        { label: "replies", values: s.replies, color: COLORS.replies },
        { label: "errors", values: s.errors.map((v) => (v ? v : null)), color: COLORS.errors, kind: "points" },
      ],
      "requests",
      "Per " + s.bucket_s + " s.",
    );
    const wh = section(container, "latency", "Latency");
    if (s.latency_histogram.counts.length) {
      histogramChart(wh, "latency-histogram", s.latency_histogram, "Latency histogram");
      percentileChart(wh, "latency-over-time", "Latency percentiles over time", s.t, s.latency_ms, "Per " + s.bucket_s + " s.");
    }
    if (s.lateness_ms && s.lateness_ms.t.length) {
      percentileChart(wh, "lateness", "Start lateness (open model)", s.lateness_ms.t, s.lateness_ms, null, "seconds into the schedule");
    }
    const codes = Object.keys(r.errors);
    const er = section(container, "errors", "Errors by Twilio code");
    if (codes.length) {
      barChart(er, "errors-by-code", "Errors by Twilio code", codes, [{ label: "errors", values: codes.map((c) => r.errors[c]), color: COLORS.errors }], "errors");
      er.append(table(null, ["code", "meaning", "count"], codes.map((c) => [docsLink(c), meaningOf(doc, c), r.errors[c]]), false));
    } else {
      er.append(h("p", { class: "empty" }, "No errors."));
    }
    er.append(table("HTTP statuses", ["status", "answers"], Object.entries(r.statuses), true));
  }

  /* -- diff --------------------------------------------------------------------------------- */

  function joined(a, b) {
    return uPlot.join([a, b]);
  }

  function drawDiff(container, doc) {
    const A = doc.before;
    const B = doc.after;
    const d = doc.diff;
    const names = doc.names || ["before", "after"];
    const cur = A.report.currency;
    const sign = (v) => (v > 0 ? "+" : "") + v;
    container.append(
      tiles([
        ["amplification", sign(num(d.amplification_increase, 2)), num(A.report.amplification.messages, 2) + " → " + num(B.report.amplification.messages, 2) + " per text"],
        ["cost", (Number(d.cost_increase) > 0 ? "+" : "") + money(cur, d.cost_increase), money(cur, A.report.total_cost) + " → " + money(cur, B.report.total_cost)],
        ["webhook p99", d.p99_increase_ms === null ? "–" : sign(num(d.p99_increase_ms, 1)) + " ms", ms(A.report.webhook.latency_ms.p99) + " → " + ms(B.report.webhook.latency_ms.p99)],
        ["new errors", d.new_errors, errorTotal(A.report) + " → " + errorTotal(B.report)],
        ["conversations answered differently", d.conversations_changed, "only in " + names[0] + ": " + d.only_before + ", only in " + names[1] + ": " + d.only_after],
      ]),
    );
    const ds = section(container, "deltas", "Deltas");
    const rows = [
      ["inbound texts", A.report.inbound.count, B.report.inbound.count],
      ["outbound messages", A.report.outbound.count, B.report.outbound.count],
      ["TwiML replies", A.report.outbound.by_origin.reply.count, B.report.outbound.by_origin.reply.count],
      ["REST sends", A.report.outbound.by_origin.api.count, B.report.outbound.by_origin.api.count],
      ["outbound segments", A.report.outbound.segments, B.report.outbound.segments],
      ["amplification (messages per text)", A.report.amplification.messages, B.report.amplification.messages],
      ["cost per text", A.report.amplification.cost, B.report.amplification.cost],
      ["total cost", Number(A.report.total_cost), Number(B.report.total_cost)],
      ["webhook p99 ms", A.report.webhook.latency_ms.p99, B.report.webhook.latency_ms.p99],
      ["errors", errorTotal(A.report), errorTotal(B.report)],
    ];
    ds.append(
      table(
        null,
        ["", names[0], names[1], "delta"],
        rows.map(([label, a, b]) => [label, a === null ? "–" : a, b === null ? "–" : b, a === null || b === null ? "–" : sign(Number((b - a).toFixed(4)))]),
        true,
      ),
    );
    if (d.changed && d.changed.length) {
      ds.append(
        table(
          "Conversations answered differently (examples)",
          ["sender", "text", "body", names[0], names[1]],
          d.changed.map((c) => [c.sender, c.text, c.body, c.before.join(" | "), c.after.join(" | ")]),
          false,
        ),
      );
    }

    const tl = section(container, "timeline", "Timelines overlaid");
    const total = (s) => s.t.map((_, i) => ["1", "2", "3", "4+"].reduce((n, p) => n + (s.inbound[p][i] || 0), 0));
    const out = (s) => s.t.map((_, i) => (s.replies[i] || 0) + (s.api[i] || 0));
    const data = joined([A.series.t, total(A.series), out(A.series)], [B.series.t, total(B.series), out(B.series)]);
    plot(
      tl,
      "timeline",
      "Inbound texts and outbound messages, both runs",
      {
        scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
        axes: [{ label: "seconds into the run" }, { label: "messages", size: 60 }],
        series: [
          { label: "t (s)" },
          seriesOf({ label: names[0] + " inbound", color: COLORS.before, kind: "step" }),
          seriesOf({ label: names[0] + " outbound", color: COLORS.pos2, kind: "step" }),
          seriesOf({ label: names[1] + " inbound", color: COLORS.after, kind: "step" }),
          seriesOf({ label: names[1] + " outbound", color: COLORS.errors, kind: "step" }),
        ],
      },
      data,
      "Per bucket (" + A.series.bucket_s + " s and " + B.series.bucket_s + " s).",
    );
    if (A.series.latency_histogram.counts.length || B.series.latency_histogram.counts.length) {
      const lat = joined([A.series.t, A.series.latency_ms.p50, A.series.latency_ms.p99], [B.series.t, B.series.latency_ms.p50, B.series.latency_ms.p99]);
      plot(
        tl,
        "latency-over-time",
        "Webhook latency p50 and p99, both runs",
        {
          scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
          axes: [{ label: "seconds into the run" }, { label: "ms", size: 60 }],
          series: [
            { label: "t (s)" },
            seriesOf({ label: names[0] + " p50", color: COLORS.before }),
            seriesOf({ label: names[0] + " p99", color: COLORS.pos2 }),
            seriesOf({ label: names[1] + " p50", color: COLORS.after }),
            seriesOf({ label: names[1] + " p99", color: COLORS.errors }),
          ],
        },
        lat,
      );
    }

    const bp = section(container, "positions", "Amplification by burst position");
    const positions = Math.max(A.report.by_position.length, B.report.by_position.length);
    const at = (r, i) => (r.by_position[i] ? r.by_position[i].amplification : null);
    const labels = Array.from({ length: positions }, (_, i) => "#" + (i + 1));
    barChart(bp, "amplification-by-position", "Outbound messages per inbound text, by position", labels, [
      { label: names[0], values: labels.map((_, i) => at(A.report, i)), color: COLORS.before },
      { label: names[1], values: labels.map((_, i) => at(B.report, i)), color: COLORS.after },
    ], "outbound per text");

    const cs = section(container, "cost", "Cost breakdown");
    const pa = costParts(A.report, A.series);
    const pb = costParts(B.report, B.series);
    const costLabels = pa.map((p) => p[0]).concat(["carrier fees"]);
    const costValues = (parts) => parts.map((p) => Number(p[1].price)).concat([parts.reduce((n, p) => n + Number(p[1].carrier_fees), 0)]);
    barChart(cs, "cost-breakdown", "What each run cost, by kind (" + cur + ")", costLabels, [
      { label: names[0], values: costValues(pa), color: COLORS.before },
      { label: names[1], values: costValues(pb), color: COLORS.after },
    ], cur, "Prices without carrier fees; carrier fees apart.");

    const codes = Array.from(new Set(Object.keys(A.report.errors).concat(Object.keys(B.report.errors)))).sort();
    const er = section(container, "errors", "Errors by Twilio code");
    if (codes.length) {
      barChart(er, "errors-by-code", "Errors by Twilio code, both runs", codes, [
        { label: names[0], values: codes.map((c) => A.report.errors[c] || 0), color: COLORS.before },
        { label: names[1], values: codes.map((c) => B.report.errors[c] || 0), color: COLORS.errors },
      ], "errors");
      er.append(table(null, ["code", "meaning", names[0], names[1]], codes.map((c) => [docsLink(c), meaningOf(doc, c), A.report.errors[c] || 0, B.report.errors[c] || 0]), false));
    } else {
      er.append(h("p", { class: "empty" }, "No errors in either run."));
    }
  }

  function drawReport(container, doc) {
    clear(container);
    if (doc.kind === "diff") drawDiff(container, doc);
    else if (doc.kind === "load") drawLoad(container, doc);
    else drawRun(container, doc);
  }

  global.TwsimCharts = { drawReport: drawReport, clear: clear, h: h, money: money, docsLink: docsLink, table: table };
})(window);
