// Draws the portal's charts from the JSON that the page carries (Django's
// json_script), so no figures are fetched after the page has loaded.
(function () {
  "use strict";

  var SERIES = [
    { key: "invoiced", label: "Invoiced", colour: "#2f6fdb" },
    { key: "paid", label: "Paid", colour: "#1f8a4c" },
    { key: "due", label: "Due", colour: "#e08a1e" },
  ];

  function drawInvoices(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var figures = JSON.parse(source.textContent);
    var money = new Intl.NumberFormat(undefined, {
      style: "currency",
      currency: figures.currency,
    });
    var roundMoney = new Intl.NumberFormat(undefined, {
      style: "currency",
      currency: figures.currency,
      maximumFractionDigits: 0,
    });

    new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: SERIES.map(function (series) {
          return {
            label: series.label,
            data: figures[series.key],
            backgroundColor: series.colour,
            borderRadius: 3,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + money.format(item.parsed.y);
              },
            },
          },
        },
        scales: {
          y: {
            beginAtZero: true,
            ticks: {
              callback: function (value) {
                return roundMoney.format(value);
              },
            },
          },
        },
      },
    });
  }

  document.querySelectorAll("canvas#invoices-chart").forEach(drawInvoices);
})();
