/* digifit: behaviour shared by every page (kept out of the templates: the Content-Security-Policy allows no
 * inline script or event handler attributes).
 *
 * - a <select data-submit-on-change> submits its form when changed (the language switch; without script the
 *   form's <noscript> button does it).
 */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-submit-on-change]") && el.form) el.form.submit();
  });
})();
