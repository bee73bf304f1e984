// Progressive enhancement only: every page and action works without this file.
(function () {
  "use strict";

  // Buttons with data-confirm ask first: static/js/confirm.js.

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

  // The main navigation on narrow screens: the "Menü" button (a disclosure, hidden until this
  // script runs) shows and hides the list. Without this script the list simply stays open.
  // The CSS hides the list only while the button says aria-expanded="false" and the screen is
  // narrow; on wide screens the button is not shown and the list always is.
  var toggle = document.querySelector(".site-nav__toggle");
  var navList = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (toggle && navList) {
    var setOpen = function (open) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); };
    setOpen(false);
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the focus back on its button.
    toggle.parentElement.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true" &&
          toggle.offsetParent !== null) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // A table wider than the screen scrolls inside its box (.kern-table-responsive). While it
  // does, the box can be reached with the keyboard (to scroll it with the arrow keys) and is
  // a region named by the table's caption; when the table fits, it is a plain box again and
  // no extra tab stop. (Browsers without this script: Chromium and Firefox let the keyboard
  // reach a scrolling box themselves.)
  var SCROLLER = ".kern-table-responsive";
  function markScroller(box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("data-scroll-box", "");
      var caption = box.querySelector("caption");
      if (caption && !box.hasAttribute("aria-labelledby")) {
        if (!caption.id) { caption.id = "table-caption-" + Math.random().toString(36).slice(2, 10); }
        box.setAttribute("role", "region");
        box.setAttribute("aria-labelledby", caption.id);
      }
    } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
      ["tabindex", "data-scroll-box", "role", "aria-labelledby"].forEach(function (a) {
        box.removeAttribute(a);
      });
    }
  }
  // The box changes its width with the window, the table its width with its content.
  var boxes = window.ResizeObserver && new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var box = entry.target.closest(SCROLLER);
      if (box) { markScroller(box); }
    });
  });
  function watchScrollers() {
    document.querySelectorAll(SCROLLER).forEach(function (box) {
      markScroller(box);
      if (boxes) {
        boxes.observe(box);
        if (box.firstElementChild) { boxes.observe(box.firstElementChild); }
      }
    });
  }
  watchScrollers();
  document.addEventListener("htmx:afterSettle", watchScrollers);

  // A form with an edit conflict notice or an error summary: focus it so screen readers
  // read it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("edit-conflict") ||
      document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
