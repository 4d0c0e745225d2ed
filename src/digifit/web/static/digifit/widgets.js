/* digifit respondent form: the few widgets that need a script (no third party, no inline script under CSP).
 *
 * - range: the slider submits nothing until it is moved (an untouched slider is no answer, as in ODK
 *   Collect); the <output> shows the value.
 * - geopoint: "Use my location" fills latitude, longitude, altitude and accuracy from the browser's
 *   Geolocation API; typed values work without it.
 * - rank: the up/down buttons move an item; the hidden inputs' order is the answer; focus stays on the
 *   moved item's button and the new position is announced.
 * - barcode: with the BarcodeDetector API (and a camera) a "Scan" button fills the text field.
 */
(function () {
  "use strict";
  document.querySelectorAll("input[type=range][data-range-name]").forEach(function (input) {
    var output = document.getElementById(input.id + "-value");
    function update() {
      input.name = input.getAttribute("data-range-name");
      if (output) output.textContent = input.value;
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
  });

  document.querySelectorAll("fieldset.geopoint").forEach(function (box) {
    var button = box.querySelector("[data-geolocate]");
    var status = box.querySelector("[data-geo-status]");
    if (!button || !navigator.geolocation) return;
    button.hidden = false;
    function set(part, value) {
      var input = box.querySelector("[data-geo=" + part + "]");
      if (input && value !== null && value !== undefined) {
        input.value = String(Math.round(value * 1e6) / 1e6);
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    button.addEventListener("click", function () {
      status.textContent = status.getAttribute("data-waiting");
      navigator.geolocation.getCurrentPosition(function (pos) {
        set("lat", pos.coords.latitude);
        set("lon", pos.coords.longitude);
        set("alt", pos.coords.altitude || 0);
        set("acc", pos.coords.accuracy);
        status.textContent = "";
      }, function () {
        status.textContent = status.getAttribute("data-failed");
      }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
    });
  });

  document.querySelectorAll("ol[data-rank]").forEach(function (list) {
    var status = list.parentNode.querySelector("[data-rank-status]");
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move]");
      if (!button) return;
      var item = button.closest("li");
      var up = button.getAttribute("data-move") === "up";
      var other = up ? item.previousElementSibling : item.nextElementSibling;
      if (!other) return;
      if (up) list.insertBefore(item, other); else list.insertBefore(other, item);
      button.focus();
      var position = Array.prototype.indexOf.call(list.children, item) + 1;
      if (status) status.textContent = status.getAttribute("data-moved").replace("{n}", String(position));
      item.querySelector("input").dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    document.querySelectorAll("input[data-barcode]").forEach(function (input) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "outline";
      button.textContent = input.getAttribute("data-scan-label") || "Scan";
      input.insertAdjacentElement("afterend", button);
      button.addEventListener("click", function () {
        var detector = new window.BarcodeDetector();
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
          var video = document.createElement("video");
          video.srcObject = stream;
          video.setAttribute("playsinline", "");
          video.className = "barcode-video";
          button.insertAdjacentElement("afterend", video);
          video.play();
          function stop() { stream.getTracks().forEach(function (t) { t.stop(); }); video.remove(); }
          function look() {
            detector.detect(video).then(function (codes) {
              if (codes.length) {
                input.value = codes[0].rawValue;
                input.dispatchEvent(new Event("change", { bubbles: true }));
                stop();
              } else {
                window.requestAnimationFrame(look);
              }
            }, stop);
          }
          look();
        }, function () { /* no camera: typed entry stays */ });
      });
    });
  }
})();
