/* digifit: behaviour shared by every page (kept out of the templates: the Content-Security-Policy allows no
 * inline script or event handler attributes).
 *
 * - a <select data-submit-on-change> submits its form when changed (the language switch; without script the
 *   form's <noscript> button does it).
 * - a box that scrolls sideways (a wide table on a phone: `main table` scrolls inside itself at <= 600 px) and
 *   holds nothing focusable gets tabindex="0", so that it can be scrolled with the keyboard (WCAG 2.1.1; axe's
 *   scrollable-region-focusable); checked on load, after an HTMX swap and when the window is resized.
 */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-submit-on-change]") && el.form) el.form.submit();
  });

  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
  function scrollRegionsFocusable() {
    var boxes = document.querySelectorAll("main table, main .table-scroll, main [data-scroll-focus]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var scrolls = box.scrollWidth > box.clientWidth + 1 && !box.querySelector(FOCUSABLE);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    }
  }
  var resizing = null;
  document.addEventListener("DOMContentLoaded", scrollRegionsFocusable);
  document.addEventListener("htmx:afterSettle", scrollRegionsFocusable);
  window.addEventListener("resize", function () {
    if (resizing) window.clearTimeout(resizing);
    resizing = window.setTimeout(scrollRegionsFocusable, 150);
  });
})();
