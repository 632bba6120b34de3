// The reports page's charts, one per section, drawn from the numbers the page carries in
// #report-charts (json_script); each chart's numbers are also in the table beside it.
// No inline script or style: the page works under a strict Content-Security-Policy.
(function () {
  "use strict";
  var COLOURS = ["#1f6f8b", "#c0392b", "#7d5ba6", "#2e8b57", "#b9770e", "#34495e"];
  var language = document.documentElement.lang || "id";
  function formatter(kind) {
    if (kind === "rupiah") {
      return function (v) { return "Rp " + Math.round(v).toLocaleString("id-ID"); };
    }
    if (kind === "percent") {
      return function (v) { return Number(v).toLocaleString(language, { maximumFractionDigits: 1 }) + " %"; };
    }
    return function (v) { return Number(v).toLocaleString(language, { maximumFractionDigits: 0 }); };
  }
  // A long category name is written on lines of about `width` characters (shorter under
  // upright bars), so the axis keeps room for the bars on a phone.
  function wrapper(width) {
    return function (label) { return wrapped(label, width); };
  }
  function wrapped(label, width) {
    if (label.length <= width) return label;
    var lines = [], line = "";
    label.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else line = line ? line + " " + word : word;
    });
    if (line) lines.push(line);
    return lines;
  }
  function draw(chart) {
    var canvas = document.getElementById(chart.canvas);
    if (!canvas) return;
    var format = formatter(chart.number);
    var valueAxis = chart.horizontal ? "x" : "y";
    var categoryAxis = chart.horizontal ? "y" : "x";
    var scales = {};
    scales[categoryAxis] = { ticks: { autoSkip: false, maxRotation: 0 } };
    scales[valueAxis] = {
      beginAtZero: true,
      ticks: { precision: chart.number === "count" ? 0 : undefined, callback: function (v) { return format(v); } }
    };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels.map(wrapper(chart.horizontal ? 18 : 9)),
        datasets: chart.datasets.map(function (set, i) {
          return { label: set.label, data: set.data, backgroundColor: COLOURS[i % COLOURS.length] };
        })
      },
      options: {
        indexAxis: chart.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: chart.datasets.length > 1 },
          tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + format(c.parsed[valueAxis]); } } }
        }
      }
    });
  }
  function drawAll() {
    var source = document.getElementById("report-charts");
    if (!source || typeof Chart === "undefined") return;
    JSON.parse(source.textContent).charts.forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
