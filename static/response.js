// The response page: raw / rendered Markdown toggle, remote images loaded only on request.
// No inline script anywhere (CSP); works for content swapped in by htmx too (delegation).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-md-toggle]");
    if (toggle) {
      var part = toggle.closest("[data-md]");
      if (!part) return;
      var raw = part.querySelector(".md-raw");
      var rendered = part.querySelector(".md-rendered");
      var showRaw = toggle.getAttribute("aria-pressed") !== "true";
      raw.hidden = !showRaw;
      rendered.hidden = showRaw;
      toggle.setAttribute("aria-pressed", showRaw ? "true" : "false");
      toggle.textContent = showRaw ? "Rendered" : "Raw text";
      return;
    }
    var load = event.target.closest("button.load-image[data-src]");
    if (load) {
      var src = load.dataset.src || "";
      // Only https images: the page never asks any other origin for anything by itself.
      if (src.slice(0, 8).toLowerCase() !== "https://") return;
      var img = document.createElement("img");
      img.referrerPolicy = "no-referrer";
      img.alt = load.dataset.alt || "image";
      img.loading = "lazy";
      img.src = src;
      img.className = "remote";
      load.replaceWith(img);
    }
  });
})();
