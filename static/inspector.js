// Responses Inspector: theme toggle, copy buttons, keyboard moves. No inline script anywhere (CSP).
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = localStorage.getItem("theme");
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var dark = root.dataset.theme ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      localStorage.setItem("theme", root.dataset.theme);
      return;
    }
    var copy = event.target.closest("[data-copy-target]");
    if (copy) {
      var target = document.getElementById(copy.dataset.copyTarget);
      if (target && navigator.clipboard) {
        // A block that holds a <pre> (and maybe a "show all" link): copy the <pre> only.
        var source = target.tagName === "PRE" ? target : (target.querySelector("pre") || target);
        navigator.clipboard.writeText(source.textContent).then(function () {
          var label = copy.textContent;
          copy.textContent = "Copied";
          setTimeout(function () { copy.textContent = label; }, 1200);
        });
      }
    }
  });

  // "/" focuses the lookup box; j / k move between items.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "/") {
      var box = document.getElementById("lookup-q");
      if (box) { event.preventDefault(); box.focus(); }
    } else if (event.key === "j" || event.key === "k") {
      var items = Array.prototype.slice.call(document.querySelectorAll(".item"));
      if (!items.length) return;
      var current = document.querySelector(".item.current");
      var index = items.indexOf(current);
      index = event.key === "j" ? Math.min(items.length - 1, index + 1) : Math.max(0, index - 1);
      if (current) current.classList.remove("current");
      items[index].classList.add("current");
      items[index].setAttribute("tabindex", "-1");
      items[index].focus({ preventScroll: true });
      items[index].scrollIntoView({ block: "start", behavior: "smooth" });
    }
  });
})();
