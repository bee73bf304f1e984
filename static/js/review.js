// The review desk (templates/review/review.html): the running weighted total of the scores
// chosen, updated as the reviewer chooses. The server renders the same text (domain/criteria.py
// `total`: each score put on the scale 1 to 5, then the mean weighted by the criteria's
// weights), so it is right without this script; the element is a polite live region
// (role="status").
(function () {
  "use strict";

  var form = document.querySelector("form[data-review-form]");
  var out = document.getElementById("review-total");
  if (!form || !out) { return; }
  var lang = document.documentElement.lang || "de";

  function update() {
    var count = 0;
    var weights = 0;
    var sum = 0;
    form.querySelectorAll("[data-criterion]").forEach(function (criterion) {
      var radio = criterion.querySelector("input[type=radio]:checked");
      if (!radio) { return; }
      var value = parseInt(radio.value, 10);
      var scale = parseInt(criterion.getAttribute("data-scale"), 10) || 5;
      var weight = parseInt(criterion.getAttribute("data-weight"), 10) || 1;
      if (value >= 1 && value <= scale && scale >= 2) {
        count += 1;
        weights += weight;
        sum += weight * (1 + 4 * (value - 1) / (scale - 1));
      }
    });
    var text;
    if (!count) {
      text = out.getAttribute("data-empty-text");
    } else {
      var total = (Math.round(sum / weights * 100) / 100).toLocaleString(lang, {
        maximumFractionDigits: 2});
      text = out.getAttribute("data-total-text")
        .replace("{total}", total).replace("{count}", String(count));
    }
    if (out.textContent !== text) { out.textContent = text; }
  }

  form.addEventListener("change", function (event) {
    if (event.target.closest("[data-criterion]")) { update(); }
  });
})();
