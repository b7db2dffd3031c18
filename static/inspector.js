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

  // Narrow screens: a table with a header row of three or more columns becomes stacked rows
  // (static/inspector.css), each cell labelled with its column's header. The roles keep it
  // a table for screen readers, which drop a table's semantics when its display changes.
  function stack(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head || head.cells.length < 3) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      for (var n = 0; n < th.colSpan; n++) labels.push(th.textContent.trim());
      th.setAttribute("role", "columnheader");
    });
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"), function (group) {
      group.setAttribute("role", "rowgroup");
    });
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (row.parentNode !== table.tHead) {
          cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
          if (labels[column] && cell.colSpan < labels.length) cell.dataset.label = labels[column];
        }
        column += cell.colSpan;
      });
    });
    table.classList.add("stacked");
  }

  // A box that scrolls (a long <pre>) must be reachable by keyboard to be scrolled. Every
  // size is read before any attribute is written: one layout, not one per box.
  function focusableScrollers(root) {
    var boxes = Array.prototype.filter.call(root.querySelectorAll("pre, .snippet"), function (box) {
      return !box.hasAttribute("tabindex");
    });
    boxes.filter(function (box) {
      return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
    }).forEach(function (box) { box.setAttribute("tabindex", "0"); });
  }

  // Times: the server writes each into <time datetime="…"> in UTC (the fallback without
  // script); here they are shown in the viewer's zone with UTC in the tooltip. In a table (a
  // list) or with data-relative, a time of the last 30 days reads "3 hours ago", the exact
  // one in the tooltip (older ones stay exact, as a log's dates do).
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function stamp(date, utc, parts) {
    var get = function (name) { return date[(utc ? "getUTC" : "get") + name](); };
    var day = get("FullYear") + "-" + pad(get("Month") + 1) + "-" + pad(get("Date"));
    var time = pad(get("Hours")) + ":" + pad(get("Minutes")) + (parts.seconds ? ":" + pad(get("Seconds")) : "");
    return parts.day && parts.time ? day + " " + time : (parts.day ? day : time);
  }
  function zoneName(date) {
    try {
      var part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date)
        .filter(function (p) { return p.type === "timeZoneName"; })[0];
      return part ? part.value : "";
    } catch (error) { return ""; }
  }
  var STEPS = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];
  function ago(date) {
    var value = (date.getTime() - Date.now()) / 1000;
    var unit = "second";
    for (var i = 0; i < STEPS.length && Math.abs(value) >= STEPS[i][0]; i++) {
      value /= STEPS[i][0];
      unit = STEPS[i + 1][1];
    }
    if (unit === "second" && Math.abs(value) < 45) return "just now";
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(value), unit);
  }
  function localTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      var shown = el.textContent;
      var parts = { day: /\d{4}-\d\d-\d\d/.test(shown), time: /\d:\d\d/.test(shown), seconds: /\d:\d\d:\d\d/.test(shown) };
      if (!parts.day && !parts.time) return;
      var local = stamp(date, false, parts) + (parts.time ? " " + zoneName(date) : "");
      var utc = stamp(date, true, parts) + (parts.time ? " UTC" : "");
      var recent = Math.abs(Date.now() - date.getTime()) < 30 * 86400 * 1000;
      var listed = el.hasAttribute("data-relative") || el.closest("table");
      if (listed && recent) {
        el.textContent = ago(date);
        el.title = local + " · " + utc;
      } else if (listed && parts.day && parts.time) {
        // A list's column: the day, then the time, muted (its zone is in the tooltip).
        var day = document.createElement("span");
        var time = document.createElement("span");
        day.className = "day";
        time.className = "muted";
        day.textContent = stamp(date, false, { day: true });
        time.textContent = stamp(date, false, { time: true, seconds: parts.seconds });
        el.replaceChildren(day, " ", time);
        el.title = local + " · " + utc;
      } else {
        el.textContent = local.trim();
        el.title = utc;
      }
      el.dataset.local = "";
    });
  }

  function enhance(root, later) {
    if (!root.querySelectorAll) return;
    var table = root.closest ? root.closest("table") : null;
    if (table) stack(table);
    root.querySelectorAll("table").forEach(stack);
    localTimes(root);
    if (!later) focusableScrollers(root);
  }
  // On the first load the scrolling boxes are found once the page has loaded: measuring
  // them forces a layout, which on a page holding megabytes of text would delay it.
  enhance(document, true);
  window.addEventListener("load", function () { setTimeout(function () { focusableScrollers(document); }, 0); });
  // Content htmx swaps in, and a <pre> that starts to scroll when its <details> opens.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
  document.addEventListener("toggle", function (event) { enhance(event.target); }, true);
  window.addEventListener("resize", function () { focusableScrollers(document); });

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
