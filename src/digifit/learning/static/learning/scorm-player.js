/* digifit: plays a lesson's SCORM package with scorm-again (issue 14).
 *
 * The package runs in a sandboxed frame (no allow-same-origin: an opaque origin, so it can read neither the
 * app's cookies nor its pages). The SCORM API lives here, in the lesson page: scorm-again's Scorm12API or
 * Scorm2004API with the business's saved state loaded, and its CrossFrameLMS answering the frame's
 * CrossFrameAPI over postMessage. Only messages from the package's own frame reach the API. Every commit goes
 * to the lesson's commit address (a signed token in the URL; no cookie needed, so the end-of-session commit
 * works too). The frame's first cache of values comes in its window name, so a package that reads
 * cmi.suspend_data right after LMSInitialize resumes where it left off.
 */
(function () {
  "use strict";
  var holder = document.getElementById("scorm-player");
  var config = document.getElementById("scorm-config");
  if (!holder || !config) return;
  var cfg = JSON.parse(config.textContent);
  var status = document.getElementById("scorm-status");
  var settings = {
    lmsCommitUrl: cfg.commitUrl,
    autocommit: true,
    autocommitSeconds: 15,
    dataCommitFormat: "json",
    sendFullCommit: true,
    fetchMode: "same-origin",
    logLevel: 4
  };
  var api = cfg.version === "1.2" ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
  api.loadFromJSON(cfg.cmi, "");
  // the status line follows what the package reports (the server decides the same from the stored commit)
  function reportsDone() {
    if (cfg.version === "1.2") return ["passed", "completed"].indexOf(api.cmi.core.lesson_status) >= 0;
    return api.cmi.completion_status === "completed" || api.cmi.success_status === "passed";
  }
  ["LMSCommit", "LMSFinish", "Commit", "Terminate"].forEach(function (name) {
    api.on(name, function () { if (status && reportsDone()) status.textContent = cfg.doneText; });
  });

  var flat = {};
  (function flatten(obj, prefix) {
    Object.keys(obj).forEach(function (key) {
      var value = obj[key];
      if (value && typeof value === "object") flatten(value, prefix + key + ".");
      else flat[prefix + key] = String(value);
    });
  })(cfg.cmi, "cmi.");

  var frame = document.createElement("iframe");
  frame.className = "scorm-frame";
  frame.title = cfg.frameTitle;
  frame.setAttribute("sandbox", "allow-scripts allow-forms allow-popups allow-downloads");
  frame.setAttribute("allow", "fullscreen");
  frame.name = "digifit-scorm:" + JSON.stringify(flat);
  // the package's frame is the only window the API answers (registered before CrossFrameLMS listens)
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) event.stopImmediatePropagation();
  });
  new window.CrossFrameLMS(api, "*");
  frame.src = cfg.contentUrl;
  holder.appendChild(frame);
})();
