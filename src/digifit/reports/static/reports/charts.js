/* digifit: draw the Vega-Lite charts of a page (dashboard, analysis).
 *
 * A chart is <div class="vega-chart" data-spec="ID"> next to <script type="application/json" id="ID"> (Django's
 * json_script, never executed). The Content-Security-Policy allows no eval and no inline style, so Vega parses
 * expressions to an AST and runs them with its expression interpreter (vega-interpreter), and vega-embed
 * injects no stylesheet and no tooltip style (there are no tooltips). Charts swapped in by HTMX are drawn when
 * they settle (HTMX keeps the json_script blocks of a swap: only JavaScript <script>s are run, and the policy
 * blocks inline ones; HTMX settles no style attribute, see htmx-config in base.html); a drawn chart gets
 * data-rendered="1".
 */
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.dataset.spec);
    if (el.dataset.embedded || !source) return;
    el.dataset.embedded = "1";
    if (!window.vegaEmbed) {
      el.textContent = el.dataset.missing || "";
      return;
    }
    var spec = JSON.parse(source.textContent);
    var options = {actions: false, renderer: "svg", ast: true, defaultStyle: false, tooltip: false};
    if (window.vega && window.vega.expressionInterpreter) options.expr = window.vega.expressionInterpreter;
    if (window.digifitChartLocale) {  // numbers and dates as the page's language writes them (33,1 % in German)
      var locale = window.digifitChartLocale((document.documentElement.lang || "de").slice(0, 2));
      Object.keys(locale).forEach(function (k) { options[k] = locale[k]; });
    }
    window.vegaEmbed(el, spec, options)
      .then(function () { el.dataset.rendered = "1"; })
      .catch(function (e) { el.textContent = String(e); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".vega-chart[data-spec]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
