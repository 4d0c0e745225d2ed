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

  function apply(state) {
    var relevant = state.relevant || {};
    var offered = state.offered || {};
    form.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(relevant, key)) el.hidden = !relevant[key];
    });
    Object.keys(offered).forEach(function (key) {  // check boxes and radio buttons with a choice filter
      var names = offered[key];
      form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (input) {
        if (input.name !== key) return;
        var on = names.indexOf(input.value) >= 0;
        input.disabled = !on;
        if (!on) input.checked = false;
        var label = input.closest("label");
        if (label) label.hidden = !on;
      });
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

  // One request at a time: a change while one is under way asks again when it is answered, and a page
  // submit waits for it, so the draft is never written by two requests at once.
  var inflight = null;
  var again = false;

  function refresh() {
    pending = null;
    if (inflight) { again = true; return; }
    inflight = fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state && !again) apply(state); })
      .catch(function () { /* offline: the page POST still applies relevance */ })
      .then(function () {
        inflight = null;
        if (again) { again = false; refresh(); }
      });
  }

  form.addEventListener("change", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(refresh, 60);
  });
  form.addEventListener("submit", function (event) {
    if (pending) { clearTimeout(pending); pending = null; }  // the page POST carries the same answers
    again = false;
    if (!inflight || !form.requestSubmit) return;
    event.preventDefault();
    var submitter = event.submitter;
    inflight.then(function () { form.requestSubmit(submitter); });
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
