// Moving through the items of a response or a trace: fold one or all, open an item's Note and
// JSON from its header, copy a text, follow an item link without a reload when the item is
// on the page, and say which item is at the top. No inline script anywhere (CSP); delegation,
// so items that htmx swaps in work too.
(function () {
  "use strict";

  function fold(item, folded) {
    item.classList.toggle("folded", folded);
    var button = item.querySelector(":scope > .item-head .fold");
    if (button) button.setAttribute("aria-expanded", folded ? "false" : "true");
  }

  // What a link to an item names: an element of this page, or null.
  function placeOf(link) {
    var url;
    try { url = new URL(link.href, location.href); } catch (e) { return null; }
    var here = location.pathname.replace(/\/$/, "") + "/goto/";
    if (url.origin !== location.origin || url.pathname !== here) return null;
    var anchor = url.searchParams.get("anchor");
    if (anchor) return document.getElementById(anchor);
    var sections = ["input", "output", "instructions"];
    for (var i = 0; i < sections.length; i++) {
      var number = parseInt(url.searchParams.get(sections[i]) || "", 10);
      if (number > 0) return document.querySelector('[data-place="' + sections[i] + "-" + (number - 1) + '"]');
    }
    return null;
  }

  // Show the element an anchor names: open the <details> and unfold the items around it.
  function reveal(target) {
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
      if (node.classList && node.classList.contains("item") && node !== target) fold(node, false);
    }
  }

  function copyText(button, text) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1200);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var toggle = target.closest(".item-head .fold");
    if (toggle) {
      var item = toggle.closest(".item");
      fold(item, !item.classList.contains("folded"));
      return;
    }
    var all = target.closest("[data-fold-all]");
    if (all) {
      var folded = all.dataset.foldAll === "collapse";
      document.querySelectorAll("main .item").forEach(function (each) { fold(each, folded); });
      return;
    }
    var opener = target.closest("[data-open]");
    if (opener) {
      var panel = document.getElementById(opener.dataset.open);
      if (!panel) return;
      event.preventDefault();
      var item2 = panel.closest(".item");
      if (item2) fold(item2, false);
      panel.open = !panel.open;
      opener.setAttribute("aria-expanded", panel.open ? "true" : "false");
      var field = panel.open && panel.querySelector("textarea");
      if (field) field.focus();
      return;
    }
    var copy = target.closest("[data-copy]");
    if (copy) {
      var scope = copy.closest("[data-copy-scope]") || copy.parentElement;
      var sources = scope ? scope.querySelectorAll(copy.dataset.copy) : [];
      var texts = Array.prototype.map.call(sources, function (source) {
        var clone = source.cloneNode(true);
        clone.querySelectorAll("[aria-hidden=true], .copy").forEach(function (n) { n.remove(); });
        return clone.textContent.trim();
      });
      if (texts.length) copyText(copy, texts.join("\n"));
      return;
    }
    var link = target.closest("a[href*='/goto/?']");
    if (link && !event.metaKey && !event.ctrlKey && !event.shiftKey) {
      var place = placeOf(link);
      if (!place) return;  // not on this page: the server finds its page
      event.preventDefault();
      reveal(place);
      history.pushState(null, "", "#" + place.id);
      place.scrollIntoView({ block: "start" });
    }
  });

  function revealHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target) { reveal(target); target.scrollIntoView({ block: "start" }); }
  }
  window.addEventListener("hashchange", revealHash);
  if (location.hash) window.addEventListener("load", revealHash);

  // Which item is at the top of the window, under the sticky toolbar.
  var toolbar = document.getElementById("item-toolbar");
  var position = document.getElementById("item-position");
  if (toolbar && position) {
    var counts = (toolbar.dataset.counts || "").split(" ");
    var totals = { output: counts[0], input: counts[1] };
    var pending = false;
    var update = function () {
      pending = false;
      var below = toolbar.getBoundingClientRect().bottom + 12;
      // The first item whose bottom is below the toolbar: the one being read.
      var at = null;
      var places = document.querySelectorAll("main [data-place]");
      for (var i = 0; i < places.length; i++) {
        if (places[i].getBoundingClientRect().bottom > below) { at = places[i]; break; }
      }
      if (!at) { position.textContent = ""; return; }
      var parts = at.dataset.place.split("-");
      var section = parts[0], number = parseInt(parts[1], 10) + 1;
      var total = totals[section] ? " of " + Number(totals[section]).toLocaleString("en") : "";
      var noun = section === "instructions" ? "instruction " : section + " item ";
      var turn = at.closest("[data-turn]");
      var where = turn ? "Turn " + turn.dataset.turn + " of " + toolbar.dataset.turns + ", " : "";
      var text = where + noun + number.toLocaleString("en") + total;
      position.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    };
    window.addEventListener("scroll", function () {
      if (!pending) { pending = true; requestAnimationFrame(update); }
    }, { passive: true });
    window.addEventListener("load", update);
  }
})();
