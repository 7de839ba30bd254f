// Static twins of the book's interactive figures: swap precomputed frames as the reader moves a
// slider. No kernel, no network beyond the site itself (see lib/interactive.py).
//
// * The frames of a figure are either inline (a <script type="application/json"> in the figure) or,
//   on the built site, in a small script of their own (_optbook/frames-KEY.js, written by
//   _ext/optbook_site.py) that is fetched only when the figure nears the viewport or the reader
//   touches a slider: a chapter's first paint does not wait for frames nobody has scrolled to.
//   A <script> element, unlike fetch(), also works from file://.
// * Slider, label, figure and readout always agree: the figure is drawn from the sliders' current
//   values when the page is wired, on load, and on `pageshow` (back/forward and reload restore a
//   slider's position without replaying its input events).
(function () {
  "use strict";
  var store = window.optbookFrames = window.optbookFrames || {};
  var waiting = {};

  function loadSpec(root, done) {
    var holder = root.querySelector("script.optbook-frames");
    if (!holder) return;
    var key = holder.getAttribute("data-key");
    if (!key) { done(JSON.parse(holder.textContent)); return; }
    if (store[key]) { done(store[key]); return; }
    if (waiting[key]) { waiting[key].push(done); return; }
    waiting[key] = [done];
    var script = document.createElement("script");
    script.src = holder.getAttribute("data-src");
    script.async = true;
    script.onload = function () {
      var callbacks = waiting[key];
      delete waiting[key];
      if (store[key]) callbacks.forEach(function (callback) { callback(store[key]); });
      else root.dataset.frame = "missing";
    };
    script.onerror = function () {
      delete waiting[key];
      root.dataset.frame = "missing";
      var readout = root.querySelector(".optbook-readout");
      if (readout) readout.textContent = "This figure's frames could not be loaded: reload the page.";
    };
    document.head.appendChild(script);
  }

  function wire(root) {
    if (root.optbookShow) return root.optbookShow;
    var overlay = root.querySelector("img.optbook-overlay");
    var readout = root.querySelector(".optbook-readout");
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=range]"));
    var firstIndex = parseInt(root.dataset.defaultFrame || "-1", 10);
    var firstSrc = overlay.getAttribute("src");
    var firstReadout = readout.textContent;
    var spec = null, requested = false;
    var labels = inputs.map(function (input) { return JSON.parse(input.dataset.labels); });
    var texts = inputs.map(function (input) {
      return input.dataset.valuetexts ? JSON.parse(input.dataset.valuetexts) : null;
    });

    function request() {
      if (requested) return;
      requested = true;
      loadSpec(root, function (loaded) { spec = loaded; show(); });
    }

    function show() {
      var index = 0, shape = spec ? spec.shape : labels.map(function (l) { return l.length; });
      inputs.forEach(function (input, i) {
        var position = Math.max(0, Math.min(shape[i] - 1, parseInt(input.value, 10) || 0));
        index = index * shape[i] + position;
        input.nextElementSibling.textContent = labels[i][position];
        if (texts[i]) input.setAttribute("aria-valuetext", texts[i][position]);
      });
      if (index === firstIndex) {                 // the frame the page was built with: no spec needed
        if (overlay.getAttribute("src") !== firstSrc) overlay.setAttribute("src", firstSrc);
        readout.textContent = spec ? spec.readouts[index] : firstReadout;
        root.dataset.frame = String(index);
      } else if (spec) {
        overlay.setAttribute("src", "data:image/png;base64," + spec.frames[index]);
        readout.textContent = spec.readouts[index];
        root.dataset.frame = String(index);
      } else {                                    // frames on their way: show() runs again on arrival
        root.dataset.frame = "loading";
        request();
      }
    }

    inputs.forEach(function (input) {
      input.addEventListener("input", show);
      input.addEventListener("change", show);
      input.addEventListener("focus", request);
      input.addEventListener("pointerdown", request);
    });
    root.optbookShow = show;
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { observer.disconnect(); request(); }
      }, { rootMargin: "600px 0px" });
      observer.observe(root);
    } else {
      request();
    }
    show();
    return show;
  }

  function figures() { return Array.prototype.slice.call(document.querySelectorAll(".optbook-interactive")); }
  function wireAll() { figures().forEach(wire); }
  function syncAll() { figures().forEach(function (root) { wire(root)(); }); }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireAll);
  else wireAll();
  window.addEventListener("load", syncAll);
  window.addEventListener("pageshow", syncAll);
})();
