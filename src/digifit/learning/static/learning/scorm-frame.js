/* digifit: put into every HTML page of a SCORM package (issue 14). The page runs in a sandboxed frame, so the
 * package cannot reach the lesson page's SCORM API directly: scorm-again's CrossFrameAPI stands in as window.API
 * (SCORM 1.2) or window.API_1484_11 (SCORM 2004), as the package's manifest says, and forwards every call to the
 * lesson page. Its cache starts
 * with the values the lesson page passed in the frame's window name (where the package left off). */
(function () {
  "use strict";
  var script = document.currentScript;
  var api = new window.CrossFrameAPI(script.getAttribute("data-lms"), window.parent);
  var prefix = "digifit-scorm:";
  if (typeof window.name === "string" && window.name.indexOf(prefix) === 0) {
    try {
      var values = JSON.parse(window.name.slice(prefix.length));
      Object.keys(values).forEach(function (key) { api._cache.set(key, values[key]); });
    } catch (e) { /* no cache: the values arrive with the first answers */ }
  }
  if (script.getAttribute("data-version") === "1.2") window.API = api;
  else window.API_1484_11 = api;
})();
