// Static twins of the book's interactive figures: swap precomputed frames as the reader moves a
// slider. No kernel, no network: the frames are in the page (see lib/interactive.py).
(function () {
  "use strict";
  function wire(root) {
    if (root.dataset.wired) return;
    root.dataset.wired = "1";
    var spec = JSON.parse(root.querySelector("script.optbook-frames").textContent);
    var overlay = root.querySelector("img.optbook-overlay");
    var readout = root.querySelector(".optbook-readout");
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=range]"));
    var urls = spec.frames.map(function (b64) { return "data:image/png;base64," + b64; });
    function show() {
      var index = 0;
      inputs.forEach(function (input, i) {
        var position = parseInt(input.value, 10);
        index = index * spec.shape[i] + position;
        var labels = JSON.parse(input.dataset.labels);
        input.nextElementSibling.textContent = labels[position];
      });
      overlay.src = urls[index];
      readout.textContent = spec.readouts[index];
      root.dataset.frame = String(index);
    }
    inputs.forEach(function (input) { input.addEventListener("input", show); });
  }
  function wireAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".optbook-interactive"), wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireAll);
  else wireAll();
})();
