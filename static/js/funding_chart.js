// The funding page's burn-down: the tranche schedule, the spending and its forecast, all
// cumulative, from the numbers the page carries in #burn-data (json_script). No inline
// script or style: the page works under a strict Content-Security-Policy.
(function () {
  "use strict";
  function rupiah(value) {
    return "Rp " + Math.round(value).toLocaleString("id-ID");
  }
  function draw() {
    var source = document.getElementById("burn-data");
    var canvas = document.getElementById("burn-chart");
    if (!source || !canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.scheduled, data: data.scheduled, stepped: true, borderColor: "#1f6f8b", backgroundColor: "#1f6f8b", pointRadius: 0 },
          { label: data.names.spent, data: data.spent, borderColor: "#c0392b", backgroundColor: "#c0392b", pointRadius: 0 },
          { label: data.names.forecast, data: data.forecast, borderColor: "#c0392b", backgroundColor: "#c0392b", borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return rupiah(v); } } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + rupiah(c.parsed.y); } } } }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
