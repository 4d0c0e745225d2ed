/* Render every Vega-Lite chart of the page: an element with data-chart-spec="ID" gets the spec of the
   <script type="application/json" id="ID"> (Django's json_script). Numbers and dates follow the page's
   language (<html lang>); without the vendored Vega scripts the element keeps its fallback text.
   No inline script: pages load this file (Content-Security-Policy friendly; the expression interpreter is
   used when vega-interpreter is loaded, so no eval is needed). */
(function () {
  "use strict";
  var FORMAT = {
    de: { decimal: ",", thousands: ".", grouping: [3], currency: ["", " €"], percent: " %", minus: "−" },
    fr: { decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", " €"], percent: "\u202f%", minus: "−" },
    en: { decimal: ".", thousands: ",", grouping: [3], currency: ["£", ""] }
  };
  var TIME = {
    de: {
      dateTime: "%A, der %e. %B %Y, %X", date: "%d.%m.%Y", time: "%H:%M:%S", periods: ["AM", "PM"],
      days: ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
      shortDays: ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
      months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
        "November", "Dezember"],
      shortMonths: ["Jan", "Feb", "Mrz", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]
    },
    fr: {
      dateTime: "%A %e %B %Y à %X", date: "%d/%m/%Y", time: "%H:%M:%S", periods: ["AM", "PM"],
      days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
      shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
      months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre"],
      shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    }
  };

  /* The number and date formats of a page language, for every chart loader of the site (reports/charts.js too). */
  window.digifitChartLocale = function (lang) {
    var locale = { formatLocale: FORMAT[lang] || FORMAT.en };
    if (TIME[lang]) { locale.timeFormatLocale = TIME[lang]; }
    return locale;
  };

  function render(el) {
    var source = document.getElementById(el.getAttribute("data-chart-spec"));
    if (!source || !window.vegaEmbed) { return; }
    var lang = (document.documentElement.lang || "de").slice(0, 2);
    // no injected stylesheet, no tooltip style: the Content-Security-Policy allows no inline style
    var options = { actions: false, renderer: "svg", defaultStyle: false, tooltip: false,
      formatLocale: FORMAT[lang] || FORMAT.en };
    if (TIME[lang]) { options.timeFormatLocale = TIME[lang]; }
    if (window.vega && window.vega.expressionInterpreter) {
      options.ast = true;
      options.expr = window.vega.expressionInterpreter;
    }
    el.textContent = "";
    window.vegaEmbed(el, JSON.parse(source.textContent), options)
      .then(function () { el.setAttribute("data-rendered", "1"); })
      .catch(function () { el.setAttribute("data-rendered", "error"); });
  }

  function renderAll() {
    var charts = document.querySelectorAll("[data-chart-spec]");
    for (var i = 0; i < charts.length; i++) { render(charts[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
