// The review desk (templates/review/review.html): the running total of the scores chosen,
// updated as the reviewer chooses. The server renders the same text, so it is right without
// this script; the element is a polite live region (role="status").
(function () {
  "use strict";

  var form = document.querySelector("form[data-review-form]");
  var out = document.getElementById("review-total");
  if (!form || !out) { return; }
  var lang = document.documentElement.lang || "de";

  function update() {
    var count = 0;
    var total = 0;
    form.querySelectorAll("[data-criterion] input[type=radio]:checked").forEach(function (radio) {
      var value = parseInt(radio.value, 10);
      if (value >= 1 && value <= 5) { count += 1; total += value; }
    });
    var text;
    if (!count) {
      text = out.getAttribute("data-empty-text");
    } else {
      var average = (Math.round(total / count * 100) / 100).toLocaleString(lang, {
        maximumFractionDigits: 2});
      text = out.getAttribute("data-total-text")
        .replace("{total}", String(total)).replace("{count}", String(count))
        .replace("{average}", average);
    }
    if (out.textContent !== text) { out.textContent = text; }
  }

  form.addEventListener("change", function (event) {
    if (event.target.closest("[data-criterion]")) { update(); }
  });
})();
