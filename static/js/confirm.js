// Irreversible steps ask first (innolab/web/confirm.py): a button with data-confirm opens the
// page's confirmation dialog (templates/_macros/confirm.html) before its form is sent. "Yes"
// sends the form with confirmed=1, "Abbrechen" or Escape closes the dialog and puts the focus
// back on the button. Without this script the server asks on a page of its own.
(function () {
  "use strict";

  var dialog = document.getElementById("confirm-dialog");
  var pending = null; // {form, button} while the dialog is open

  function send(form, button) {
    var field = form.querySelector("input[type=hidden][name=confirmed]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "confirmed";
      form.appendChild(field);
    }
    field.value = "1";
    form.setAttribute("data-confirmed", "");
    if (typeof form.requestSubmit === "function") { form.requestSubmit(button); }
    else { form.submit(); }
  }

  function open(form, button) {
    var title = dialog.querySelector("#confirm-dialog-title");
    var text = dialog.querySelector("#confirm-dialog-text");
    var summary = dialog.querySelector("#confirm-dialog-summary");
    var ok = dialog.querySelector("[data-confirm-ok] .kern-label");
    if (!dialog.hasAttribute("data-default-title")) {
      dialog.setAttribute("data-default-title", title.textContent);
      dialog.setAttribute("data-default-ok", ok.textContent);
    }
    title.textContent = button.getAttribute("data-confirm-title") ||
      dialog.getAttribute("data-default-title");
    text.textContent = button.getAttribute("data-confirm");
    var source = button.getAttribute("data-confirm-summary");
    var from = source && document.getElementById(source);
    summary.textContent = from ? from.textContent.replace(/\s+/g, " ").trim() : "";
    summary.hidden = !summary.textContent;
    ok.textContent = button.textContent.replace(/\s+/g, " ").trim() ||
      dialog.getAttribute("data-default-ok");
    pending = {form: form, button: button};
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby",
      summary.hidden ? "confirm-dialog-text" : "confirm-dialog-summary confirm-dialog-text");
    dialog.showModal();
    dialog.querySelector("[data-confirm-ok]").focus();
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var form = event.target;
    if (!button || !button.hasAttribute("data-confirm")) { return; }
    if (form.hasAttribute("data-confirmed")) { form.removeAttribute("data-confirmed"); return; }
    event.preventDefault();
    if (form.hasAttribute("data-sending")) { return; }
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(button.getAttribute("data-confirm"))) { send(form, button); }
      return;
    }
    open(form, button);
  }, true);

  if (!dialog) { return; }
  dialog.querySelector("[data-confirm-ok]").addEventListener("click", function () {
    var chosen = pending;
    pending = null;
    dialog.close("ok");
    if (chosen) { send(chosen.form, chosen.button); }
  });
  dialog.querySelector("[data-confirm-cancel]").addEventListener("click", function () {
    dialog.close("cancel");
  });
  // Escape (the dialog's cancel event), the cancel button or a send: the focus goes back to the
  // button that opened the dialog.
  dialog.addEventListener("close", function () {
    var back = pending;
    pending = null;
    if (back && back.button && document.contains(back.button)) { back.button.focus(); }
  });
})();
