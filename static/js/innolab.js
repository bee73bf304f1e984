// Progressive enhancement only: every page and action works without this file.
(function () {
  "use strict";

  // A refused form answered at the action's own address (which only POST reaches): the
  // address bar shows the page it belongs to, so that a reload or a bookmark finds the page.
  // (Without this script a reload of the action's address is sent there by the server.)
  var own = document.querySelector('meta[name="innolab-page-address"]');
  if (own && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", own.getAttribute("content"));
  }

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

  // A request htmx sends that fails (an error answer such as 413 for a file over the limit,
  // or no answer at all) would change nothing on the page: say so in the message area. The
  // app's error page carries the title and text in the page's language; for an answer that
  // is not the app's (a proxy's 413, say) and for no answer, the texts come from the page
  // (#request-failed, templates/base.html). A later successful request takes the notice away.
  var FAILED = "[data-request-failed]";
  function clearFailure() {
    document.querySelectorAll(FAILED).forEach(function (old) { old.remove(); });
  }
  function fromErrorPage(xhr) {
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (!xhr || !xhr.responseText || type.indexOf("text/html") !== 0) { return null; }
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var title = doc.querySelector("main h1[data-error-page]");
    var text = title && title.nextElementSibling;
    if (!text) { return null; }
    return {title: title.textContent.trim(), text: text.textContent.trim()};
  }
  function requestFailed(event, noAnswer) {
    var box = document.querySelector(".flashes");
    var texts = document.getElementById("request-failed");
    if (!box || !texts) { return; }
    var xhr = event.detail && event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var said = noAnswer ? null : fromErrorPage(xhr);
    var title = said ? said.title : texts.getAttribute("data-title");
    var text = said ? said.text
      : noAnswer ? texts.getAttribute("data-no-answer")
      : status === 413 ? texts.getAttribute("data-too-large")
      : texts.getAttribute("data-other").replace("%(status)s", String(status));
    clearFailure();
    var alert = document.createElement("div");
    alert.className = "kern-alert kern-alert--danger";
    alert.setAttribute("role", "alert");
    alert.setAttribute("data-request-failed", "");
    alert.setAttribute("tabindex", "-1");
    var header = document.createElement("div");
    header.className = "kern-alert__header";
    var icon = document.createElement("span");
    icon.className = "kern-icon kern-icon--danger";
    icon.setAttribute("aria-hidden", "true");
    var heading = document.createElement("span");
    heading.className = "kern-title";
    heading.textContent = title;
    header.appendChild(icon);
    header.appendChild(heading);
    var body = document.createElement("div");
    body.className = "kern-alert__body";
    var para = document.createElement("div");
    para.className = "kern-body";
    para.textContent = text;
    body.appendChild(para);
    alert.appendChild(header);
    alert.appendChild(body);
    box.appendChild(alert);
    alert.scrollIntoView({block: "nearest"});
  }
  document.addEventListener("htmx:responseError", function (event) { requestFailed(event, false); });
  document.addEventListener("htmx:sendError", function (event) { requestFailed(event, true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) { clearFailure(); }
  });

  // A form with an edit conflict notice or an error summary: focus it so screen readers
  // read it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("edit-conflict") ||
      document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
