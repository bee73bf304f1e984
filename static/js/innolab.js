// Progressive enhancement only: every page and action works without this file.
(function () {
  "use strict";

  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  // A form that changes something is sent once: while its request runs, its buttons say
  // they are busy and a second click does nothing. (The server also answers a form sent
  // twice with the first result; this only spares the second request.)
  var BUTTONS = "button[type=submit], button:not([type]), input[type=submit]";
  function busy(form, on) {
    if (on) { form.setAttribute("data-sending", ""); } else { form.removeAttribute("data-sending"); }
    form.querySelectorAll(BUTTONS).forEach(function (button) {
      if (on) { button.setAttribute("aria-disabled", "true"); }
      else { button.removeAttribute("aria-disabled"); }
    });
  }
  function sentByHtmx(form) {
    return ["hx-post", "hx-put", "hx-patch", "hx-delete"].some(function (a) {
      return form.hasAttribute(a);
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post" || sentByHtmx(form)) {
      return;
    }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    busy(form, true);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || form.tagName !== "FORM") { return; }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    busy(form, true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.tagName === "FORM") { busy(form, false); }
  });
  // Back to a page from the browser's cache: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) { busy(form, false); });
  });

  // After htmx swaps a region, move focus where the user expects it:
  // to the element marked data-focus-after-swap inside the new content, if any.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) { return; }
    var focus = target.querySelector("[data-focus-after-swap]");
    if (focus) {
      if (!focus.hasAttribute("tabindex")) { focus.setAttribute("tabindex", "-1"); }
      focus.focus();
    }
  });

  // A form with an edit conflict notice or an error summary: focus it so screen readers
  // read it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("edit-conflict") ||
      document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
