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
