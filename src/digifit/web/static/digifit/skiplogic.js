/* digifit respondent form: live skip logic without a second evaluator.
 *
 * On every change the page's answers are posted to the form's relevance endpoint (data-relevance-url); the
 * server saves them as a draft, evaluates relevance and choice filters with the same evaluator that checks
 * the submission, and answers {"relevant": {key: bool}, "offered": {key: [choice, ...]}}. This script only
 * shows or hides what the server says. Without it, every page POST re-renders with relevance applied.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-relevance-url]");
  if (!form || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-relevance-url");
  var pending = null;
  var sequence = 0;

  function apply(state) {
    var relevant = state.relevant || {};
    var offered = state.offered || {};
    form.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(relevant, key)) el.hidden = !relevant[key];
    });
    form.querySelectorAll("select[data-filtered]").forEach(function (select) {
      var names = offered[select.name];
      if (!names) return;
      select.querySelectorAll("option").forEach(function (option) {
        if (!option.value) return;
        var on = names.indexOf(option.value) >= 0;
        option.hidden = !on;
        option.disabled = !on;
        if (!on && option.selected) select.value = "";
      });
    });
  }

  function refresh() {
    var mine = ++sequence;
    var body = new FormData(form);
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state && mine === sequence) apply(state); })
      .catch(function () { /* offline: the page POST still applies relevance */ });
  }

  form.addEventListener("change", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(refresh, 60);
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
