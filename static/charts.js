// Charts: draws every <canvas data-chart="…"> with Chart.js (static/chart-4.6.1.umd.min.js)
// from the JSON beside it (json_script, made by inspector/charts.py), in the theme's colours
// (--chart-1 … --chart-8 and the text colours of static/inspector.css), and draws them
// again when the theme changes. No inline script anywhere (CSP); Chart.js needs no eval.
(function () {
  "use strict";
  var Chart = window.Chart;
  if (!Chart) return;
  var drawn = [];

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // Dollars as pricing.money writes them: cents from a dollar up, else 3 significant digits.
  function money(value) {
    if (value === 0) return "$0";
    var sign = value < 0 ? "-" : "";
    var size = Math.abs(value);
    if (size < 0.000001) return sign + "<$0.000001";
    if (size >= 1) {
      return sign + "$" + size.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    return sign + "$" + size.toPrecision(3);
  }

  function format(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "usd") return money(value);
    if (unit === "percent") return value.toFixed(1) + " %";
    if (unit === "seconds") return value.toFixed(1) + " s";
    return Math.round(value).toLocaleString("en-US");
  }

  function config(spec) {
    var colours = [];
    for (var i = 1; i <= 8; i++) colours.push(css("--chart-" + i));
    var text = css("--fg");
    var muted = css("--muted");
    var grid = css("--border");
    var across = spec.horizontal ? "y" : "x";
    var along = spec.horizontal ? "x" : "y";
    var datasets = spec.datasets.map(function (d) {
      var colour = colours[d.color % colours.length];
      var line = d.kind === "line";
      var set = {
        label: d.label,
        data: d.data,
        type: line ? "line" : "bar",
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2.5 : 0,
        pointHoverRadius: line ? 4 : 0,
        order: line ? 0 : 1,
        spanGaps: false,
        unit: d.axis === "y2" ? spec.unit2 : spec.unit
      };
      set[along + "AxisID"] = d.axis === "y2" ? along + "2" : along;
      return set;
    });
    var scales = {};
    scales[across] = {
      stacked: spec.stacked,
      ticks: { color: muted, autoSkip: true, maxRotation: 0, autoSkipPadding: 8 },
      grid: { display: false },
      border: { color: grid }
    };
    scales[along] = {
      stacked: spec.stacked,
      beginAtZero: true,
      position: spec.horizontal ? "bottom" : "left",
      ticks: { color: muted, maxTicksLimit: 6, callback: function (value) { return format(value, spec.unit); } },
      grid: { color: grid },
      border: { display: false }
    };
    if (spec.whole) {  // one bar of parts: as wide as their sum
      scales[along].max = spec.datasets.reduce(function (sum, d) { return sum + (d.data[0] || 0); }, 0);
    }
    if (spec.unit2) {
      scales[along + "2"] = {
        beginAtZero: true,
        position: spec.horizontal ? "top" : "right",
        ticks: { color: muted, maxTicksLimit: 6, callback: function (value) { return format(value, spec.unit2); } },
        grid: { drawOnChartArea: false },
        border: { display: false }
      };
    }
    return {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: across,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: {
            display: datasets.length > 1,
            position: "bottom",
            labels: { color: text, boxWidth: 12, boxHeight: 12 }
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format(item.parsed[along], item.dataset.unit);
              }
            }
          }
        }
      }
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || Chart.getChart(canvas)) return;
    var spec = JSON.parse(source.textContent);
    drawn.push({ canvas: canvas, spec: spec, chart: new Chart(canvas, config(spec)) });
  }

  function drawAll(root) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  // A new theme: the same charts in its colours.
  function redraw() {
    drawn.forEach(function (entry) {
      entry.chart.destroy();
      entry.chart = new Chart(entry.canvas, config(entry.spec));
    });
  }

  drawAll(document);
  new MutationObserver(redraw).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"]
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
