// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" checkboxes: <input type=checkbox data-select-all="NAME"> toggles every
  // checkbox named NAME.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`)) {
        box.checked = all.checked;
      }
    });
  }
  // Selects that submit their form when changed (page size, filters): data-autosubmit.
  for (const el of document.querySelectorAll("[data-autosubmit]")) {
    el.addEventListener("change", () => el.form && el.form.requestSubmit());
  }
  // Dangerous buttons stay disabled until the confirmation is given:
  // data-confirm-text="EXPECTED" on a text input and/or data-confirm-check on a checkbox,
  // inside the same form as the submit button with data-confirm-submit.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    const submit = form.querySelector("[data-confirm-submit]");
    const text = form.querySelector("[data-confirm-text]");
    const check = form.querySelector("[data-confirm-check]");
    const update = () => {
      const okText = !text || text.value.trim() === text.dataset.confirmText;
      const okCheck = !check || check.checked;
      submit.disabled = !(okText && okCheck);
    };
    for (const el of [text, check]) if (el) el.addEventListener("input", update);
    if (check) check.addEventListener("change", update);
    update();
  }
  // A colour input with a "suggest" button: data-suggest-color="INPUT_ID".
  for (const btn of document.querySelectorAll("[data-suggest-color]")) {
    btn.addEventListener("click", (ev) => {
      ev.preventDefault();
      const input = document.getElementById(btn.dataset.suggestColor);
      const h = Math.floor(Math.random() * 360), s = 0.55, l = 0.78;
      const f = (n) => {
        const k = (n + h / 30) % 12, a = s * Math.min(l, 1 - l);
        const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
        return Math.round(c * 255).toString(16).padStart(2, "0");
      };
      input.value = `#${f(0)}${f(8)}${f(4)}`;
      input.dispatchEvent(new Event("input"));
    });
  }
});
// Liveness status dots (issue #21). Pages render, at once, a hidden placeholder per address
// (<span class="live" data-live-ip="…" data-live-wait-ms="…">) only when liveness is
// configured; this fills them from GET /ui/liveness?ip=… (100 addresses a request), giving
// up after data-live-wait-ms: a slow or stopped Prometheus turns them grey, never blocks.
document.addEventListener("DOMContentLoaded", () => {
  const dots = [...document.querySelectorAll("[data-live-ip]")];
  if (dots.length === 0) return;
  const wait = Number(dots[0].dataset.liveWaitMs) || 7000;
  const states = ["up", "down", "not_scraped", "unknown"];
  // One visible line above the first table (or field list) when Prometheus gave no answer.
  let noticed = false;
  const notice = (why) => {
    if (noticed) return;
    noticed = true;
    const p = document.createElement("p");
    p.className = "live-notice";
    p.setAttribute("role", "status");
    p.textContent = "Status dots: unknown — Prometheus unreachable.";
    p.title = why;
    const where = dots[0].closest(".table-wrap, section, dl") || dots[0];
    where.parentNode.insertBefore(p, where);
  };
  const show = (s) => {
    if (s.state === "unknown") notice(s.detail);
    for (const d of dots) {
      if (d.dataset.liveIp !== s.ip) continue;
      d.classList.remove(...states.map((x) => `live-${x}`));
      d.classList.add(`live-${s.state}`);
      d.dataset.liveState = s.state;
      let text = s.label;
      if (s.state !== "unknown" && s.detail) text += `, ${s.detail}`;
      if (d.classList.contains("live-full") && s.seen_in) text += ` (${s.seen_in})`;
      d.querySelector(".live-text").textContent = text;
      d.title = [s.label, s.detail, s.seen_in].filter(Boolean).join("\n");
      d.hidden = false;
    }
  };
  const unknown = (ip, why) => show({ ip, state: "unknown", label: "unknown — Prometheus unreachable", detail: why, seen_in: "" });
  const ips = [...new Set(dots.map((d) => d.dataset.liveIp))];
  for (let i = 0; i < ips.length; i += 100) {
    const chunk = ips.slice(i, i + 100);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), wait);
    const query = chunk.map((ip) => `ip=${encodeURIComponent(ip)}`).join("&");
    fetch(`/ui/liveness?${query}`, { signal: abort.signal, headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`the server answered ${r.status}`))))
      .then((body) => body.addresses.forEach(show))
      .catch((e) => {
        const why = e.name === "AbortError" ? `no answer within ${Math.round(wait / 1000)} s` : e.message;
        chunk.forEach((ip) => unknown(ip, why));
      })
      .finally(() => clearTimeout(timer));
  }
});

// ---- Range pages (issue #21): the "Alive" utilization, loaded after the page ----
// Every [data-alive-range=ID] gets its range's alive figure from /ui/ranges/alive.json; a slow
// or stopped Prometheus only leaves "unknown" there after a few seconds, never a slow page.
document.addEventListener("DOMContentLoaded", () => {
  const cells = document.querySelectorAll("[data-alive-range]");
  if (cells.length === 0) return;
  const show = (el, text, title) => {
    el.textContent = text;
    if (title) el.title = title;
  };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 8000);
  fetch("/ui/ranges/alive.json", { signal: abort.signal, credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((data) => {
      const byId = new Map(data.ranges.map((r) => [String(r.id), r.alive]));
      const why = data.prometheus && data.prometheus.error;
      for (const el of cells) {
        const a = byId.get(el.dataset.aliveRange);
        if (!a) { show(el, "unknown", why || "no liveness answer"); continue; }
        el.textContent = "";
        const meter = document.createElement("meter");
        Object.assign(meter, { min: 0, max: 100, value: a.percent.toFixed(1) });
        meter.title = `${a.alive} alive: ${a.documented_up} documented, ${a.undocumented_alive} undocumented`;
        const figure = document.createElement("span");
        figure.className = "mono";
        figure.textContent = ` ${a.percent.toFixed(1)}%`;
        el.append(meter, figure);
        if (a.undocumented_alive > 0) {
          const extra = document.createElement("span");
          extra.className = "muted";
          extra.textContent = ` (${a.undocumented_alive} undocumented)`;
          el.append(extra);
        }
        el.dataset.loaded = "1";
      }
    })
    .catch((e) => {
      for (const el of cells) show(el, "unknown", `liveness not loaded: ${e.message}`);
    })
    .finally(() => clearTimeout(timer));
});
// ---- end of range pages ----
