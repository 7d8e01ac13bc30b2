/* twsim: the live page.
 *
 * Reads the control plane a page at a time (phones, a phone's messages, one message or webhook
 * attempt in detail, the running report) and follows /_twsim/events?follow=1 for everything
 * that changes; it never polls whole lists. Updates from the stream are applied once per
 * animation frame, so a burst of thousands of events stays smooth. Text goes in through
 * textContent only.
 */
(function () {
  "use strict";

  const API = "/_twsim";
  const h = TwsimCharts.h;
  const EVENT_TYPES = [
    "inbound.received", "inbound.rejected", "webhook.attempt", "twiml.executed", "twiml.warning",
    "message.created", "message.rejected", "message.status", "message.updated", "message.deleted",
    "callback.attempt", "charge", "optout.changed", "optout.reply", "number.changed",
    "send.planned", "reset",
  ];
  const PHONE_PAGE = 50;
  const THREAD_PAGE = 50;
  const MAX_EVENT_ROWS = 500;
  const FINAL_FAILED = new Set(["failed", "undelivered"]);

  const state = {
    codes: {},
    currency: "USD",
    lastSeq: 0,
    phones: new Map(), // phone -> conversation
    order: [], // phones, newest activity first
    phonesNext: null,
    filter: "",
    current: null,
    threadNext: null,
    bubbles: new Map(), // message SID -> {el, msg}
    detail: null, // {kind: "message" | "attempt", sid}
    queue: [],
    frame: 0,
    reportDirty: true,
    reportBusy: false,
    reportTimer: 0,
    events: { source: null, paused: false, held: 0, oldest: null, types: [], inbound: "" },
  };

  const $ = (id) => document.getElementById(id);

  async function getJSON(url, options) {
    const response = await fetch(url, options);
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const error = new Error((body && body.message) || response.statusText || "request failed");
      error.body = body;
      throw error;
    }
    return body;
  }

  function short(sid) {
    return sid ? sid.slice(0, 8) + "…" + sid.slice(-4) : "";
  }

  function meaning(code) {
    const c = state.codes[String(code)];
    return c ? c.meaning : "";
  }

  function errorLine(code, cls) {
    return h("span", { class: cls || "error-line" }, "error ", TwsimCharts.docsLink(code), " ", meaning(code));
  }

  function setStatus(text, kind) {
    const s = $("status");
    s.textContent = text;
    s.className = "status " + (kind || "");
  }

  /* -- tabs --------------------------------------------------------------------------------- */

  const TABS = ["conversations", "events", "report"];

  function showTab(name, focus) {
    for (const t of TABS) {
      const tab = $("tab-" + t);
      const on = t === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $("view-" + t).hidden = !on;
      if (on && focus) tab.focus();
    }
    if (name === "report") refreshReport(true);
    if (name === "events" && !state.events.source) startEvents();
  }

  function setupTabs() {
    TABS.forEach((t, i) => {
      const tab = $("tab-" + t);
      tab.addEventListener("click", () => showTab(t));
      tab.addEventListener("keydown", (e) => {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
          const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
          showTab(next, true);
          e.preventDefault();
        }
      });
    });
  }

  /* -- phones ------------------------------------------------------------------------------- */

  async function loadPhones(append) {
    const offset = append ? state.phonesNext || 0 : 0;
    const q = state.filter ? "&q=" + encodeURIComponent(state.filter) : "";
    const page = await getJSON(API + "/conversations?limit=" + PHONE_PAGE + "&offset=" + offset + q);
    if (!append) {
      state.phones.clear();
      state.order = [];
    }
    for (const c of page.conversations) {
      if (!state.phones.has(c.phone)) state.order.push(c.phone);
      state.phones.set(c.phone, c);
    }
    state.phonesNext = page.next;
    state.phonesTotal = page.total;
    renderPhones();
  }

  function renderPhones() {
    const list = $("phone-list");
    list.textContent = "";
    for (const phone of state.order) {
      const c = state.phones.get(phone);
      const last = c.last || {};
      const button = h(
        "button",
        { type: "button", "aria-current": phone === state.current ? "true" : "false", "data-phone": phone },
        h("span", { class: "counts" }, c.inbound + " in · " + c.outbound + " out", c.failed ? h("span", { class: "failed" }, " · " + c.failed + " failed") : null),
        h("span", { class: "phone" }, phone),
        h("span", { class: "snippet" }, (last.direction === "inbound" ? "" : "↩ ") + (last.body || "")),
      );
      button.addEventListener("click", () => openPhone(phone));
      list.append(h("li", {}, button));
    }
    $("phones-more").hidden = state.phonesNext === null || state.phonesNext === undefined;
    $("phone-count").textContent = state.phonesTotal ? "(" + state.phonesTotal + ")" : "";
  }

  function touchPhone(msg) {
    const inbound = msg.direction === "inbound";
    const phone = inbound ? msg.from : msg.to;
    if (!phone || (state.filter && !phone.includes(state.filter))) return;
    let c = state.phones.get(phone);
    if (!c) {
      c = { phone: phone, numbers: [], inbound: 0, outbound: 0, failed: 0, last: null };
      state.phones.set(phone, c);
      state.phonesTotal = (state.phonesTotal || 0) + 1;
    } else {
      state.order.splice(state.order.indexOf(phone), 1);
    }
    state.order.unshift(phone);
    if (inbound) c.inbound += 1;
    else c.outbound += 1;
    c.last = { sid: msg.sid, direction: msg.direction, status: msg.status, body: (msg.body || "").slice(0, 80) };
    state.phonesChanged = true;
  }

  /* -- a conversation ----------------------------------------------------------------------- */

  function fromRest(m) {
    return {
      sid: m.sid, direction: m.direction, from: m.from, to: m.to, body: m.body, status: m.status,
      error_code: m.error_code, segments: Number(m.num_segments), encoding: m.encoding,
      ucs2_chars: m.ucs2_chars || "", num_media: Number(m.num_media),
    };
  }

  function fromEvent(e) {
    const d = e.data;
    return {
      sid: e.message, direction: e.type === "inbound.received" ? "inbound" : d.direction, from: d.From,
      to: d.To, body: d.body, status: e.type === "inbound.received" ? "received" : d.status,
      error_code: null, segments: d.segments, encoding: d.encoding, ucs2_chars: d.ucs2_chars || "",
      num_media: d.num_media,
    };
  }

  function bodyWithCulprits(body, culprits) {
    const span = h("span", { class: "body" });
    if (!culprits) {
      span.textContent = body;
      return span;
    }
    const bad = new Set(Array.from(culprits));
    let run = "";
    for (const ch of Array.from(body)) {
      if (bad.has(ch)) {
        if (run) span.append(run);
        run = "";
        const cp = "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
        span.append(h("mark", { class: "ucs2", title: cp + " forced UCS-2" }, ch));
      } else {
        run += ch;
      }
    }
    if (run) span.append(run);
    return span;
  }

  function bubbleMeta(msg) {
    const inbound = msg.direction === "inbound";
    const who = inbound ? "sent" : msg.direction === "outbound-reply" ? "TwiML reply" : "REST send";
    return h(
      "span",
      { class: "meta" },
      who + " · " + msg.segments + " seg",
      msg.encoding === "UCS-2" ? h("span", { class: "chip enc", title: "a character outside GSM-7 forced UCS-2" }, "UCS-2") : null,
      msg.num_media ? " · " + msg.num_media + " media" : null,
      h("span", { class: "chip " + msg.status }, msg.status),
      " ",
      h("button", { type: "button", class: "linkish details", "aria-label": "Details of " + who + " " + msg.sid }, "details"),
    );
  }

  function bubble(msg) {
    const inbound = msg.direction === "inbound";
    const li = h("li", { class: "bubble " + (inbound ? "in" : "out"), "data-sid": msg.sid, "data-status": msg.status });
    fillBubble(li, msg);
    li.addEventListener("click", (e) => {
      if (e.target.closest("a")) return;
      showMessage(msg.sid);
    });
    return li;
  }

  function fillBubble(li, msg) {
    li.textContent = "";
    li.dataset.status = msg.status;
    li.append(bodyWithCulprits(msg.body || (msg.num_media ? "(media only)" : ""), msg.ucs2_chars), bubbleMeta(msg));
    if (msg.error_code) li.append(h("span", { class: "error-line-wrap" }, h("br"), errorLine(msg.error_code)));
    li.classList.toggle("selected", state.detail && state.detail.sid === msg.sid);
  }

  async function openPhone(phone) {
    state.current = phone;
    if (!Array.from($("compose-to").options).some((o) => o.value === phone)) $("compose-from").value = phone;
    state.bubbles.clear();
    $("bubbles").textContent = "";
    $("thread-title").textContent = phone;
    $("view-conversations").classList.add("show-thread");
    renderPhones();
    const page = await getJSON(API + "/messages?limit=" + THREAD_PAGE + "&phone=" + encodeURIComponent(phone));
    if (state.current !== phone) return;
    addBubbles(page.messages.map(fromRest), "start");
    state.threadNext = page.next;
    $("thread-earlier").hidden = !page.next;
    updateThreadHead();
    const scroll = $("thread-scroll");
    scroll.scrollTop = scroll.scrollHeight;
  }

  function updateThreadHead() {
    const c = state.phones.get(state.current);
    $("thread-counts").textContent = c ? c.inbound + " texts in, " + c.outbound + " messages out" + (c.numbers && c.numbers.length ? " · with " + c.numbers.join(", ") : "") : "";
    $("thread-empty").hidden = state.bubbles.size > 0;
  }

  /* newest-first messages, added at the top ("start") or as they come ("end") */
  function addBubbles(newestFirst, where) {
    const list = $("bubbles");
    const fragment = document.createDocumentFragment();
    for (const msg of newestFirst.slice().reverse()) {
      if (state.bubbles.has(msg.sid)) continue;
      const el = bubble(msg);
      state.bubbles.set(msg.sid, { el: el, msg: msg });
      fragment.append(el);
    }
    if (where === "start") list.prepend(fragment);
    else list.append(fragment);
    $("thread-empty").hidden = state.bubbles.size > 0;
  }

  async function earlier() {
    if (!state.threadNext || !state.current) return;
    const phone = state.current;
    const scroll = $("thread-scroll");
    const before = scroll.scrollHeight;
    const page = await getJSON(API + "/messages?limit=" + THREAD_PAGE + "&phone=" + encodeURIComponent(phone) + "&before=" + encodeURIComponent(state.threadNext));
    if (state.current !== phone) return;
    addBubbles(page.messages.map(fromRest), "start");
    state.threadNext = page.next;
    $("thread-earlier").hidden = !page.next;
    scroll.scrollTop += scroll.scrollHeight - before;
  }

  /* -- details ------------------------------------------------------------------------------ */

  function facts(pairs) {
    return h("dl", { class: "facts" }, pairs.filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function link(text, onclick, label) {
    return h("button", { type: "button", class: "linkish", onclick: onclick, "aria-label": label || null }, text);
  }

  function openDetail(title, kind, sid, content) {
    state.detail = { kind: kind, sid: sid };
    const detail = $("detail");
    detail.hidden = false;
    $("detail-title").textContent = title;
    const body = $("detail-body");
    body.textContent = "";
    body.append(content);
    for (const { el, msg } of state.bubbles.values()) el.classList.toggle("selected", msg.sid === sid);
  }

  function closeDetail() {
    state.detail = null;
    $("detail").hidden = true;
    $("detail-body").textContent = "";
    for (const { el } of state.bubbles.values()) el.classList.remove("selected");
  }

  function kindOf(m) {
    return m.direction === "inbound" ? "Inbound text" : m.direction === "outbound-reply" ? "TwiML reply" : "REST send";
  }

  function messageButton(m) {
    return link(kindOf(m) + " " + short(m.sid) + ": “" + (m.body || "").slice(0, 60) + "”", () => showMessage(m.sid), kindOf(m) + " " + m.sid);
  }

  function attemptButton(a) {
    return link("webhook " + a.kind + " " + short(a.sid) + " · " + a.method + " " + a.url + " → " + (a.http_status === null ? "no answer" : a.http_status) + (a.latency_ms === null ? "" : " in " + a.latency_ms + " ms"), () => showAttempt(a.sid), "webhook attempt " + a.sid);
  }

  async function showMessage(sid) {
    showTab("conversations");
    let d;
    try {
      d = await getJSON(API + "/messages/" + encodeURIComponent(sid));
    } catch (e) {
      openDetail("Message", "message", sid, h("p", { class: "empty" }, e.message));
      return;
    }
    const m = d.message;
    const out = h("div", {});
    out.append(
      facts([
        ["SID", h("span", { class: "mono" }, m.sid)],
        ["from", m.from],
        ["to", m.to],
        ["status", h("span", { class: "chip " + m.status }, m.status)],
        ["created", m.date_created],
        ["media", d.media.length ? h("span", {}, d.media.map((u) => h("span", { class: "mono" }, u, h("br")))) : null],
      ]),
    );
    if (d.error) out.append(h("h3", {}, "Error"), h("p", {}, TwsimCharts.docsLink(d.error.code), " ", d.error.meaning, " ", h("a", { href: d.error.more_info, rel: "noreferrer", target: "_blank" }, "Twilio's page")));
    out.append(h("h3", {}, "Segments: " + d.segments.length + " × " + d.encoding));
    if (d.ucs2_chars.length) {
      out.append(h("p", {}, "Forced to UCS-2 by ", d.ucs2_chars.map((c, i) => [i ? ", " : "", h("mark", { class: "ucs2" }, c.char), " " + c.codepoint])));
    }
    const culprits = d.ucs2_chars.map((c) => c.char).join("");
    d.segments.forEach((s, i) => {
      const seg = h("div", { class: "segment" }, h("span", { class: "n" }, i + 1 + "/" + d.segments.length));
      seg.append(bodyWithCulprits(s, culprits));
      out.append(seg);
    });
    out.append(h("h3", {}, "Price"));
    if (d.price) {
      out.append(
        facts([
          ["total", TwsimCharts.money(d.price.currency, d.price.total)],
          ["price", d.price.units + " × " + d.price.unit_price + " = " + TwsimCharts.money(d.price.currency, d.price.price)],
          ["carrier fee", TwsimCharts.money(d.price.currency, d.price.carrier_fee)],
          ["charged for", d.price.kind],
        ]),
      );
    } else {
      out.append(h("p", { class: "empty" }, m.direction === "inbound" ? "Not billed." : "Billed once it is sent."));
    }
    out.append(h("h3", {}, "Cause"));
    const chain = h("ol", { class: "chain" }, h("li", {}, "this " + kindOf(m).toLowerCase() + (d.cause.attributed ? " (attributed: " + d.cause.attributed + ")" : "")));
    if (d.cause.attempt) chain.append(h("li", {}, attemptButton(d.cause.attempt)));
    if (d.cause.inbound) chain.append(h("li", {}, messageButton(d.cause.inbound)));
    if (!d.cause.attempt && !d.cause.inbound) chain.append(h("li", { class: "empty" }, m.direction === "inbound" ? "a phone texted the gateway" : "no inbound text (not attributed)"));
    out.append(chain);
    if (d.caused.attempts.length || d.caused.messages.length) {
      out.append(h("h3", {}, "What it caused"));
      out.append(h("ul", { class: "chain caused" }, d.caused.attempts.map((a) => h("li", {}, attemptButton(a))), d.caused.messages.map((c) => h("li", {}, messageButton(c)))));
    }
    if (d.history.length) {
      out.append(h("h3", {}, "Status"));
      out.append(h("ol", {}, d.history.map((x) => h("li", {}, x.previous + " → " + x.status + (x.error_code ? " (" + x.error_code + ")" : "") + " at " + x.t.toFixed(3) + " s"))));
    }
    openDetail(kindOf(m), "message", sid, out);
  }

  function prettyXml(text) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) return null;
    const pre = h("pre", { class: "twiml", "aria-label": "the app's TwiML answer" });
    const line = (depth, ...parts) => pre.append("  ".repeat(depth), ...parts, "\n");
    const walk = (node, depth) => {
      if (node.nodeType === Node.TEXT_NODE) {
        const t = node.textContent.trim();
        if (t) line(depth, h("span", { class: "text" }, t));
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      const attrs = Array.from(node.attributes).map((a) => [" ", h("span", { class: "attr" }, a.name + '="' + a.value + '"')]);
      if (!node.childNodes.length) {
        line(depth, h("span", { class: "tag" }, "<" + node.nodeName), attrs, h("span", { class: "tag" }, "/>"));
        return;
      }
      const kids = Array.from(node.childNodes).filter((k) => k.nodeType === Node.ELEMENT_NODE || (k.nodeType === Node.TEXT_NODE && k.textContent.trim()));
      if (kids.length === 1 && kids[0].nodeType === Node.TEXT_NODE) {
        line(depth, h("span", { class: "tag" }, "<" + node.nodeName), attrs, h("span", { class: "tag" }, ">"), h("span", { class: "text" }, kids[0].textContent.trim()), h("span", { class: "tag" }, "</" + node.nodeName + ">"));
        return;
      }
      line(depth, h("span", { class: "tag" }, "<" + node.nodeName), attrs, h("span", { class: "tag" }, ">"));
      for (const k of kids) walk(k, depth + 1);
      line(depth, h("span", { class: "tag" }, "</" + node.nodeName + ">"));
    };
    walk(doc.documentElement, 0);
    return pre;
  }

  async function showAttempt(sid) {
    showTab("conversations");
    let d;
    try {
      d = await getJSON(API + "/attempts/" + encodeURIComponent(sid));
    } catch (e) {
      openDetail("Webhook attempt", "attempt", sid, h("p", { class: "empty" }, e.message));
      return;
    }
    const a = d.attempt ? d.attempt.data : {};
    const x = d.exchange;
    const out = h("div", {});
    out.append(
      facts([
        ["SID", h("span", { class: "mono" }, sid)],
        ["kind", a.kind],
        ["request", (a.method || (x && x.method)) + " " + (a.url || (x && x.url))],
        ["HTTP status", a.http_status === null || a.http_status === undefined ? "no answer" : String(a.http_status)],
        ["latency", a.latency_ms === null || a.latency_ms === undefined ? null : a.latency_ms + " ms"],
        ["tries", a.tries],
        ["content type", a.content_type],
      ]),
    );
    if (d.error) out.append(h("p", {}, errorLine(d.error.code), a.error ? h("span", { class: "muted" }, " — " + a.error) : null));
    if (x) {
      out.append(h("h3", {}, "Signed request"));
      out.append(facts([["signed URL", h("span", { class: "mono" }, x.signed_url)], ["X-Twilio-Signature", x.signature ? h("span", { class: "mono" }, x.signature) : null]]));
      out.append(TwsimCharts.table(null, ["parameter", "value"], x.params.map((p) => [p[0], p[1]]), false));
      out.lastChild.firstChild.classList.add("params");
      out.append(h("h3", {}, "The app's answer" + (x.answer_truncated ? " (first " + x.answer.length + " of " + x.answer_bytes + " bytes)" : "")));
      const looksXml = /xml/.test(x.content_type || "") || /^\s*</.test(x.answer);
      const pretty = looksXml && x.answer ? prettyXml(x.answer) : null;
      out.append(pretty || h("pre", { class: "twiml" }, x.answer || "(empty)"));
    } else {
      out.append(h("p", { class: "empty" }, "The request and answer of this attempt are no longer kept in memory."));
    }
    if (d.executed) out.append(h("h3", {}, "TwiML executed"), facts([["answer", d.executed.answer], ["messages", String(d.executed.messages)], ["redirect", d.executed.redirect]]));
    if (d.warnings.length) {
      out.append(h("h3", {}, "Warnings and errors"));
      out.append(h("ul", {}, d.warnings.map((w) => h("li", {}, TwsimCharts.docsLink(w.code), " " + w.meaning + (w.fatal ? " (fatal)" : ""), w.message ? h("div", { class: "muted" }, w.message) : null))));
    }
    if (d.messages.length) out.append(h("h3", {}, "Messages it created"), h("ul", { class: "chain caused" }, d.messages.map((m) => h("li", {}, messageButton(m)))));
    if (d.inbound) out.append(h("h3", {}, "For"), h("p", {}, messageButton(d.inbound)));
    openDetail("Webhook attempt", "attempt", sid, out);
  }

  /* -- compose ------------------------------------------------------------------------------ */

  async function compose(e) {
    e.preventDefault();
    const from = $("compose-from").value.trim();
    const result = $("compose-result");
    const media = $("compose-media").value.split(/\s+/).filter(Boolean);
    const payload = { From: from, To: $("compose-to").value, Body: $("compose-body").value, MediaUrl: media };
    result.className = "muted";
    result.textContent = "sending…";
    try {
      const answer = await getJSON(API + "/inbound?source=ui", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      result.textContent = "sent " + answer.inbound.sid;
      $("compose-body").value = "";
      const phone = answer.inbound.from;
      if (state.current !== phone) await openPhone(phone);
    } catch (err) {
      result.className = "bad";
      result.textContent = "";
      const body = err.body;
      result.append(body && body.code ? [TwsimCharts.docsLink(body.code), " " + body.message] : err.message);
    }
  }

  /* -- the live stream ---------------------------------------------------------------------- */

  function startStream() {
    const source = new EventSource(API + "/events?follow=1&since=" + state.lastSeq);
    source.addEventListener("open", () => setStatus("live", "live"));
    source.addEventListener("error", () => setStatus("reconnecting…", "down"));
    for (const type of EVENT_TYPES) source.addEventListener(type, enqueue);
  }

  function enqueue(message) {
    state.queue.push(message);
    if (!state.frame) state.frame = requestAnimationFrame(flush);
  }

  function flush() {
    state.frame = 0;
    const batch = state.queue;
    state.queue = [];
    let atBottom = false;
    const scroll = $("thread-scroll");
    atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
    const fresh = [];
    let refreshDetail = false;
    for (const message of batch) {
      const e = JSON.parse(message.data);
      state.lastSeq = Math.max(state.lastSeq, e.seq);
      if (e.type === "reset") {
        reset();
        continue;
      }
      if (e.type === "inbound.received" || e.type === "message.created") {
        const msg = fromEvent(e);
        touchPhone(msg);
        const phone = msg.direction === "inbound" ? msg.from : msg.to;
        if (phone === state.current) {
          addBubbles([msg], "end");
          fresh.push(msg);
        }
      } else if (e.type === "message.status") {
        const b = state.bubbles.get(e.message);
        if (b) {
          b.msg.status = e.data.status;
          if (e.data.error_code) b.msg.error_code = e.data.error_code;
          fillBubble(b.el, b.msg);
        }
        if (FINAL_FAILED.has(e.data.status)) {
          const b2 = b ? state.phones.get(b.msg.to) : null;
          if (b2) b2.failed += 1;
        }
      }
      if (state.detail && (e.message === state.detail.sid || e.inbound === state.detail.sid || e.attempt === state.detail.sid)) refreshDetail = true;
    }
    if (fresh.length && atBottom) scroll.scrollTop = scroll.scrollHeight;
    if (state.phonesChanged) {
      state.phonesChanged = false;
      renderPhones();
      if (state.current) updateThreadHead();
    }
    if (refreshDetail) scheduleDetail();
    state.reportDirty = true;
    if (!$("view-report").hidden) refreshReport(false);
    setStatus("live · event " + state.lastSeq, "live");
  }

  let detailTimer = 0;
  function scheduleDetail() {
    clearTimeout(detailTimer);
    detailTimer = setTimeout(() => {
      const d = state.detail;
      if (!d) return;
      if (d.kind === "message") showMessage(d.sid);
      else showAttempt(d.sid);
    }, 300);
  }

  function reset() {
    state.phones.clear();
    state.order = [];
    state.phonesTotal = 0;
    state.bubbles.clear();
    $("bubbles").textContent = "";
    state.current = null;
    $("thread-title").textContent = "No phone selected";
    $("thread-counts").textContent = "";
    closeDetail();
    renderPhones();
    updateThreadHead();
  }

  /* -- events view -------------------------------------------------------------------------- */

  function eventRow(e) {
    const cell = (sid, open) => (sid ? h("td", {}, link(short(sid), open, sid)) : h("td", {}));
    return h(
      "tr",
      { "data-seq": e.seq, class: "fresh" },
      h("td", { class: "num" }, e.seq),
      h("td", { class: "num" }, e.t.toFixed(3)),
      h("td", {}, e.type),
      cell(e.inbound, () => showMessage(e.inbound)),
      cell(e.attempt, () => showAttempt(e.attempt)),
      cell(e.message, () => showMessage(e.message)),
      h("td", { class: "data-cell", title: JSON.stringify(e.data) }, JSON.stringify(e.data)),
    );
  }

  function filterQuery() {
    const ev = state.events;
    return ev.types.map((t) => "&type=" + encodeURIComponent(t)).join("") + (ev.inbound ? "&inbound=" + encodeURIComponent(ev.inbound) : "");
  }

  async function startEvents() {
    const ev = state.events;
    if (ev.source) ev.source.close();
    ev.types = Array.from(document.querySelectorAll("#event-types input:checked")).map((i) => i.value);
    ev.inbound = $("event-inbound").value.trim();
    const rows = $("event-rows");
    rows.textContent = "";
    ev.oldest = null;
    const overview = await getJSON(API + "/health");
    const last = overview.last_seq;
    const since = ev.inbound ? 0 : Math.max(0, last - 1000);
    const page = await getJSON(API + "/events?limit=10000&since=" + since + filterQuery());
    const recent = page.events.filter((e) => e.seq <= last).slice(-200).reverse();
    rows.append(...recent.map(eventRow));
    rows.querySelectorAll("tr.fresh").forEach((r) => r.classList.remove("fresh"));
    ev.oldest = recent.length ? recent[recent.length - 1].seq : last + 1;
    ev.source = new EventSource(API + "/events?follow=1&since=" + last + filterQuery());
    ev.queue = [];
    const take = (m) => {
      ev.queue.push(JSON.parse(m.data));
      if (!ev.frame) ev.frame = requestAnimationFrame(flushEvents);
    };
    for (const type of EVENT_TYPES) ev.source.addEventListener(type, take);
    countEvents();
  }

  function flushEvents() {
    const ev = state.events;
    ev.frame = 0;
    if (ev.paused) {
      ev.held += ev.queue.length;
      ev.queue = [];
      countEvents();
      return;
    }
    const rows = $("event-rows");
    rows.querySelectorAll("tr.fresh").forEach((r) => r.classList.remove("fresh"));
    const batch = ev.queue.slice(-MAX_EVENT_ROWS).reverse();
    ev.queue = [];
    rows.prepend(...batch.map(eventRow));
    while (rows.children.length > MAX_EVENT_ROWS) rows.lastChild.remove();
    if (rows.lastChild) ev.oldest = Number(rows.lastChild.dataset.seq);
    countEvents();
  }

  function countEvents() {
    const ev = state.events;
    $("event-count").textContent = $("event-rows").children.length + " shown" + (ev.paused ? ", " + ev.held + " new while paused" : "");
  }

  async function earlierEvents() {
    const ev = state.events;
    if (!ev.oldest || ev.oldest <= 1) return;
    const since = Math.max(0, ev.oldest - 1000);
    const page = await getJSON(API + "/events?limit=10000&since=" + since + filterQuery());
    const older = page.events.filter((e) => e.seq < ev.oldest).slice(-200).reverse();
    const rows = $("event-rows");
    rows.append(...older.map(eventRow));
    rows.querySelectorAll("tr.fresh").forEach((r) => r.classList.remove("fresh"));
    ev.oldest = older.length ? older[older.length - 1].seq : since;
    countEvents();
  }

  function setupEvents() {
    const box = $("event-types");
    for (const type of EVENT_TYPES) {
      box.append(h("label", {}, h("input", { type: "checkbox", value: type }), " " + type));
    }
    $("event-filter").addEventListener("submit", (e) => {
      e.preventDefault();
      startEvents();
    });
    $("event-pause").addEventListener("click", () => {
      const ev = state.events;
      ev.paused = !ev.paused;
      ev.held = 0;
      $("event-pause").setAttribute("aria-pressed", ev.paused ? "true" : "false");
      $("event-pause").textContent = ev.paused ? "Resume" : "Pause";
      if (!ev.paused) startEvents();
      countEvents();
    });
    $("event-earlier").addEventListener("click", earlierEvents);
  }

  /* -- the running report ------------------------------------------------------------------- */

  async function refreshReport(now) {
    if (state.reportBusy) return;
    if (!now) {
      if (state.reportTimer) return;
      state.reportTimer = setTimeout(() => {
        state.reportTimer = 0;
        refreshReport(true);
      }, 2000);
      return;
    }
    if (!state.reportDirty && $("report").childElementCount) return;
    state.reportBusy = true;
    state.reportDirty = false;
    try {
      const s = await getJSON(API + "/summary");
      const view = $("view-report");
      const top = view.scrollTop;
      TwsimCharts.drawReport($("report"), { kind: "report", report: s.report, series: s.series, codes: state.codes });
      view.scrollTop = top;
      $("report-status").textContent = "As of event " + s.seq + "; updates while events arrive.";
    } catch (e) {
      $("report-status").textContent = "Could not read the report: " + e.message;
    } finally {
      state.reportBusy = false;
    }
  }

  /* -- start -------------------------------------------------------------------------------- */

  async function start() {
    setupTabs();
    setupEvents();
    $("compose").addEventListener("submit", compose);
    $("compose-body").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("compose").requestSubmit();
    });
    $("thread-earlier").addEventListener("click", earlier);
    $("phones-more").addEventListener("click", () => loadPhones(true));
    $("detail-close").addEventListener("click", closeDetail);
    $("back-to-phones").addEventListener("click", () => $("view-conversations").classList.remove("show-thread"));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && state.detail) closeDetail();
    });
    let filterTimer = 0;
    $("phone-filter").addEventListener("input", (e) => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => {
        state.filter = e.target.value.trim();
        loadPhones(false);
      }, 250);
    });
    $("detail").hidden = window.matchMedia("(max-width: 1100px)").matches;
    const overview = await getJSON(API + "/overview");
    state.codes = overview.codes;
    state.currency = overview.currency;
    state.lastSeq = overview.last_seq;
    $("gateway-name").textContent = "v" + overview.version + " · " + overview.numbers.map((n) => n.phone_number).join(", ");
    const to = $("compose-to");
    for (const n of overview.numbers) to.append(h("option", { value: n.phone_number }, n.phone_number + (n.sms_url ? "" : " (no webhook)")));
    await loadPhones(false);
    startStream();
    if (state.order.length && !window.matchMedia("(max-width: 720px)").matches) openPhone(state.order[0]);
  }

  start().catch((e) => setStatus("could not start: " + e.message, "down"));
})();
