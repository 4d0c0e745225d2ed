/* The demo quiz's SCORM logic: find the LMS's API (SCORM 1.2 "API" or SCORM 2004 "API_1484_11") the usual
   way, resume from suspend data, store each answer, and on "Auswerten" report score and status. */
(function () {
  "use strict";
  var RIGHT = { q1: "b", q2: "a", q3: "c" };
  function find() {  // the usual search: this window, then its parents (a foreign parent is skipped, not read)
    var win = window;
    for (var hops = 0; win && hops < 10; hops += 1) {
      try { if (win.API_1484_11 || win.API) return win; } catch (e) { return null; }
      if (!win.parent || win.parent === win) return null;
      win = win.parent;
    }
    return null;
  }
  var home = find();
  var api2004 = home && home.API_1484_11 ? home.API_1484_11 : null, api12 = api2004 ? null : home && home.API;
  var lms = document.getElementById("lms");
  var form = document.getElementById("quiz");
  var result = document.getElementById("result");
  function call(v12, v2004) { var args = Array.prototype.slice.call(arguments, 2); var api = api2004 || api12;
    return api ? api[api2004 ? v2004 : v12].apply(api, args) : ""; }
  function get(k12, k2004) { return call("LMSGetValue", "GetValue", api2004 ? k2004 : k12); }
  function set(k12, k2004, value) { return call("LMSSetValue", "SetValue", api2004 ? k2004 : k12, value); }

  if (!api12 && !api2004) { lms.textContent = "Keine Lernplattform gefunden: Ihr Ergebnis wird nicht gespeichert."; }
  else {
    call("LMSInitialize", "Initialize", "");
    lms.textContent = "Verbunden mit der Lernplattform (" + (api2004 ? "SCORM 2004" : "SCORM 1.2") + ").";
    var status = get("cmi.core.lesson_status", "cmi.completion_status");
    if (status === "not attempted" || status === "unknown" || status === "") {
      if (api2004) set("", "cmi.completion_status", "incomplete"); else set("cmi.core.lesson_status", "", "incomplete");
    }
  }
  var saved = get("cmi.suspend_data", "cmi.suspend_data") || "";
  saved.split(";").forEach(function (pair) {
    var kv = pair.split("=");
    var box = kv.length === 2 && form.querySelector("input[name='" + kv[0] + "'][value='" + kv[1] + "']");
    if (box) box.checked = true;
  });
  function answers() {
    return Object.keys(RIGHT).map(function (q) {
      var box = form.querySelector("input[name='" + q + "']:checked");
      return box ? q + "=" + box.value : "";
    }).filter(Boolean).join(";");
  }
  form.addEventListener("change", function () {
    set("cmi.suspend_data", "cmi.suspend_data", answers());
    set("cmi.core.exit", "cmi.exit", "suspend");
    call("LMSCommit", "Commit", "");
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var right = Object.keys(RIGHT).filter(function (q) {
      var box = form.querySelector("input[name='" + q + "']:checked");
      return box && box.value === RIGHT[q];
    }).length;
    var score = Math.round(100 * right / 3);
    var passed = right >= 2;
    if (api2004) {
      set("", "cmi.score.raw", String(score)); set("", "cmi.score.min", "0"); set("", "cmi.score.max", "100");
      set("", "cmi.score.scaled", String(score / 100));
      set("", "cmi.success_status", passed ? "passed" : "failed");
      set("", "cmi.completion_status", passed ? "completed" : "incomplete");
      set("", "cmi.exit", passed ? "normal" : "suspend");
    } else {
      set("cmi.core.score.raw", "", String(score)); set("cmi.core.score.min", "", "0"); set("cmi.core.score.max", "", "100");
      set("cmi.core.lesson_status", "", passed ? "passed" : "failed");
      set("cmi.core.exit", "", passed ? "" : "suspend");
    }
    set("cmi.suspend_data", "cmi.suspend_data", answers());
    call("LMSCommit", "Commit", "");
    result.textContent = right + " von 3 richtig – " + (passed ? "bestanden. Gut gemacht!" : "noch nicht bestanden. Versuchen Sie es noch einmal.");
    if (passed) call("LMSFinish", "Terminate", "");
  });
})();
