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
