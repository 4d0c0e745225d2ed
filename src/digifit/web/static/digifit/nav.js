/* digifit: the navigation collapses behind a "Menu" button on a phone (<= 600 px).
 *
 * Without script the button stays hidden and the entries simply wrap; with script the button toggles
 * aria-expanded and the list's hidden attribute (a real <button>, so Enter and Space work; Escape closes the
 * open menu and returns focus to the button). Kept out of the templates: the Content-Security-Policy allows no
 * inline script.
 */
(function () {
  "use strict";
  function init() {
    var button = document.getElementById("nav-toggle");
    if (!button) return;
    var list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list) return;
    var phone = window.matchMedia("(max-width: 600px)");
    function apply() {
      if (phone.matches) {
        button.hidden = false;
        list.hidden = button.getAttribute("aria-expanded") !== "true";
      } else {
        button.hidden = true;
        list.hidden = false;
      }
    }
    button.addEventListener("click", function () {
      button.setAttribute("aria-expanded", button.getAttribute("aria-expanded") === "true" ? "false" : "true");
      apply();
    });
    list.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && phone.matches) {
        button.setAttribute("aria-expanded", "false");
        apply();
        button.focus();
      }
    });
    if (phone.addEventListener) phone.addEventListener("change", apply);
    apply();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
