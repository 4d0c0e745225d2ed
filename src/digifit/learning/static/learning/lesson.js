/* digifit learning: a lesson's video is loaded from its platform only when the person clicks "load the video"
 * (privacy: no request to the platform before). The placeholder carries the player address in
 * data-video-src; the Content-Security-Policy of the lesson page allows exactly these player origins as frames.
 */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[data-load-video]") : null;
    if (!button) return;
    var box = button.closest("[data-video-src]");
    if (!box) return;
    var frame = document.createElement("iframe");
    frame.src = box.getAttribute("data-video-src");
    frame.title = box.getAttribute("data-video-title") || "";
    frame.className = "lesson-video-frame";
    frame.setAttribute("allow", "fullscreen; picture-in-picture");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    box.replaceChildren(frame);
  });
})();
